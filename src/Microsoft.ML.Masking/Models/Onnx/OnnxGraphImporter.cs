using System.Globalization;
using Microsoft.ML.Masking.Data;
using Onnx;

namespace Microsoft.ML.Masking.Models.Onnx;

/// <summary>
/// Reads an ONNX CNN into the layers <see cref="OnnxNetwork"/> runs (<see cref="OnnxLayerGraph"/>) and the weights they
/// hold, walking the nodes in topological order and tracking every tensor's shape, so that paddings, channel counts
/// and window sizes are checked against the image the network takes. Any node outside <see cref="SupportedOps"/> is an
/// error naming the node and its op type.
/// </summary>
/// <remarks>
/// Patterns read as one layer: MatMul followed by the Add of a constant (a Linear layer with a bias); x · Sigmoid(x)
/// (SiLU) and x · HardSigmoid(x) (HardSwish as older exporters write it); a map times per-channel scales computed from it
/// (squeeze-and-excitation, whose shape the layer-masking graph checks). Identity and Dropout are skipped. Asymmetric
/// padding (CNTK's and TensorFlow's "same") is read as the symmetric padding of its begin side when that gives the same
/// output size for the image the network takes: then the extra end row or column is never inside a window, so the
/// result is exact.
/// </remarks>
internal static class OnnxGraphImporter
{
    /// <summary>The lowest default-domain opset read.</summary>
    public const long MinimumOpset = 7;

    /// <summary>The highest default-domain opset read.</summary>
    public const long MaximumOpset = 21;

    /// <summary>The op types (and patterns) read, for messages and docs.</summary>
    public const string SupportedOps =
        "Conv (2-D; any kernel, stride, dilation, group, symmetric or output-preserving asymmetric padding, auto_pad), BatchNormalization, " +
        "Relu, Clip (constant bounds; ReLU6), Sigmoid, HardSigmoid, HardSwish, Tanh, Mul (x·Sigmoid(x) as SiLU, x·HardSigmoid(x), squeeze-and-excitation), " +
        "MaxPool, AveragePool, GlobalAveragePool, ReduceMean over the spatial axes, Add (of two computed tensors: residual), Concat (channels), " +
        "Flatten, Reshape and Squeeze to one vector per image, Gemm, MatMul (+ Add of a bias), Dropout, Identity, Constant";

    /// <summary>A tensor's per-image shape: a map (C, H, W) or a vector of <see cref="C"/> values.</summary>
    private readonly record struct Shape(long C, long H, long W, bool Flat)
    {
        public long Size => Flat ? C : C * H * W;

        public override string ToString() => Flat ? $"[{C}]" : $"[{C}, {H}, {W}]";
    }

    /// <summary>A computed tensor: the layer that makes it (−1 = the network input) and its shape.</summary>
    private readonly record struct Value(int Layer, Shape Shape);

    /// <summary>The result of an import: the layers, and the weights by state-dict name of <see cref="OnnxNetwork"/>.</summary>
    /// <param name="Graph">The layers.</param>
    /// <param name="Weights">The weights by state-dict name of <see cref="OnnxNetwork"/> (<c>layer{i}.weight</c>, …).</param>
    /// <param name="InputName">The ONNX input's name.</param>
    /// <param name="OutputName">The ONNX output's name.</param>
    /// <param name="FixedBatchSize">The batch size the file fixes for its input, or 0 when it is free.</param>
    public sealed record Result(OnnxLayerGraph Graph, Dictionary<string, (float[] Values, long[] Shape)> Weights, string InputName, string OutputName, int FixedBatchSize);

    /// <summary>Reads <paramref name="model"/>.</summary>
    /// <param name="model">The parsed ONNX model.</param>
    /// <param name="source">The file's name, for messages.</param>
    /// <param name="imageShape">The image the network takes; null to read it from the model's input (which must then be fixed).</param>
    /// <exception cref="NotSupportedException">A node, pattern or setting layer masking cannot run; the message names the node.</exception>
    public static Result Import(ModelProto model, string source, ImageShape? imageShape)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph ?? throw new NotSupportedException($"ONNX model '{source}' has no graph.");
        long opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();
        if (opset < MinimumOpset || opset > MaximumOpset)
            throw new NotSupportedException(
                $"ONNX model '{source}' uses opset {opset} of the default domain; the importer reads opsets {MinimumOpset} to {MaximumOpset}.");
        return new Walk(graph, source, opset, imageShape).Run();
    }

    private sealed class Walk(GraphProto graph, string source, long opset, ImageShape? requestedShape)
    {
        private readonly Dictionary<string, TensorProto> _constants = graph.Initializer.ToDictionary(t => t.Name);
        private readonly Dictionary<string, Value> _values = new();
        private readonly Dictionary<string, int> _readers = new();
        private readonly List<OnnxLayer> _layers = new();
        private readonly Dictionary<string, (float[] Values, long[] Shape)> _weights = new();

        public Result Run()
        {
            var inputs = graph.Input.Where(i => !_constants.ContainsKey(i.Name)).ToList();
            if (inputs.Count != 1)
                throw new NotSupportedException(
                    $"ONNX model '{source}' has {inputs.Count} inputs besides its initialisers ({string.Join(", ", inputs.Select(i => i.Name))}); an image classifier has one.");
            if (graph.Output.Count != 1)
                throw new NotSupportedException(
                    $"ONNX model '{source}' has {graph.Output.Count} outputs ({string.Join(", ", graph.Output.Select(o => o.Name))}); layer masking needs one (the class scores or the features).");
            var input = inputs[0];
            var shape = InputShape(input);
            _values[input.Name] = new Value(-1, new Shape(shape.Channels, shape.Height, shape.Width, Flat: false));
            foreach (var node in graph.Node)
                foreach (var name in node.Input.Where(n => n.Length > 0))
                    _readers[name] = _readers.GetValueOrDefault(name) + 1;
            foreach (var output in graph.Output)
                _readers[output.Name] = _readers.GetValueOrDefault(output.Name) + 1;

            foreach (var node in TopologicalOrder())
                Read(node);

            var outputName = graph.Output[0].Name;
            if (!_values.TryGetValue(outputName, out var result) || result.Layer < 0)
                throw new NotSupportedException($"ONNX model '{source}': output '{outputName}' is not computed from the image by any layer.");
            var layers = KeepAncestors(result.Layer, out var renumber);
            var weights = _weights.Where(w => renumber[LayerOf(w.Key)] >= 0).ToDictionary(w => Renamed(w.Key, renumber), w => w.Value);
            var batch = input.Type?.TensorType?.Shape?.Dim.FirstOrDefault();
            int fixedBatch = batch?.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? (int)batch.DimValue : 0;
            return new Result(new OnnxLayerGraph(source, opset, shape, layers, (int)result.Shape.Size), weights, input.Name, outputName, fixedBatch);
        }

        private ImageShape InputShape(ValueInfoProto input)
        {
            var dims = input.Type?.TensorType?.Shape?.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : -1).ToArray();
            if (input.Type?.TensorType is { } t && t.ElemType != (int)TensorProto.Types.DataType.Float)
                throw new NotSupportedException($"ONNX model '{source}': input '{input.Name}' has element type {t.ElemType}; the importer reads float32 images.");
            if (dims is not null && dims.Length != 4)
                throw new NotSupportedException($"ONNX model '{source}': input '{input.Name}' has {dims.Length} dimensions; an image batch has 4 (N, C, H, W).");
            if (requestedShape is { } requested)
            {
                if (dims is not null && (dims[1] > 0 && dims[1] != requested.Channels || dims[2] > 0 && dims[2] != requested.Height || dims[3] > 0 && dims[3] != requested.Width))
                    throw new NotSupportedException(
                        $"ONNX model '{source}': input '{input.Name}' is [{string.Join(", ", dims.Select(d => d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture)))}] but the image shape given is {requested}.");
                return requested;
            }
            if (dims is null || dims.Skip(1).Any(d => d <= 0))
                throw new NotSupportedException(
                    $"ONNX model '{source}': input '{input.Name}' has no fixed channels, height and width; give the image shape.");
            return new ImageShape((int)dims[1], (int)dims[2], (int)dims[3]);
        }

        /// <summary>The nodes in an order where every input is computed first (ONNX files are usually sorted already).</summary>
        private List<NodeProto> TopologicalOrder()
        {
            var known = new HashSet<string>(_constants.Keys) { "" };
            known.UnionWith(_values.Keys);
            var pending = graph.Node.ToList();
            var order = new List<NodeProto>(pending.Count);
            while (pending.Count > 0)
            {
                var ready = pending.Where(n => n.Input.All(known.Contains)).ToList();
                if (ready.Count == 0)
                {
                    var stuck = pending[0];
                    throw new NotSupportedException(
                        $"{Describe(stuck)} reads '{stuck.Input.First(i => !known.Contains(i))}', which no node computes (or the graph has a cycle).");
                }
                foreach (var node in ready)
                {
                    order.Add(node);
                    known.UnionWith(node.Output);
                    pending.Remove(node);
                }
            }
            return order;
        }

        private int _unnamed;

        private string NameOf(NodeProto node) => node.Name.Length > 0 ? node.Name : $"{node.OpType}#{_unnamed++}";

        private static string Describe(NodeProto node) => $"ONNX node '{node.Name}' ({node.OpType})";

        private NotSupportedException Unsupported(NodeProto node, string why) =>
            new($"Layer masking cannot run {Describe(node)} of '{source}': {why}.");

        private void Read(NodeProto node)
        {
            if (node.Domain is not ("" or "ai.onnx"))
                throw Unsupported(node, $"domain '{node.Domain}' is not the default ONNX domain. Supported: {SupportedOps}");
            switch (node.OpType)
            {
                case "Constant":
                    _constants[node.Output[0]] = Attribute(node, "value")?.T ?? throw Unsupported(node, "only tensor constants (attribute 'value') are read");
                    return;
                case "Identity":
                    // PyTorch's exporter writes Identity nodes over shared initialisers: a constant stays a constant.
                    if (_constants.TryGetValue(node.Input[0], out var constant))
                        _constants[node.Output[0]] = constant;
                    else
                        Alias(node, Computed(node, 0));
                    return;
                case "Dropout":
                    if (node.Output.Count > 1 && node.Output[1].Length > 0 && _readers.GetValueOrDefault(node.Output[1]) > 0)
                        throw Unsupported(node, "its mask output is read; at inference Dropout is the identity and has no mask");
                    if (node.Input.Count > 2 && node.Input[2].Length > 0 && Floats(node, node.Input[2]).Any(v => v != 0))
                        throw Unsupported(node, "training_mode is on");
                    Alias(node, Computed(node, 0));
                    return;
                case "Conv": Conv(node); return;
                case "BatchNormalization": BatchNorm(node); return;
                case "Relu" or "Sigmoid" or "Tanh" or "HardSwish":
                    Activation(node, node.OpType, 0, 0);
                    return;
                case "HardSigmoid":
                    Activation(node, "HardSigmoid", Float(node, "alpha", 0.2f), Float(node, "beta", 0.5f));
                    return;
                case "Clip": Clip(node); return;
                case "MaxPool" or "AveragePool": Pool(node); return;
                case "GlobalAveragePool": GlobalPool(node, Computed(node, 0), keepDims: true); return;
                case "ReduceMean": ReduceMean(node); return;
                case "Flatten": Flatten(node); return;
                case "Reshape": Reshape(node); return;
                case "Squeeze": Squeeze(node); return;
                case "Gemm": Gemm(node); return;
                case "MatMul": MatMul(node); return;
                case "Add": Add(node); return;
                case "Concat": Concat(node); return;
                case "Mul": Mul(node); return;
                default:
                    throw Unsupported(node, $"the op is not one the engine can mask. Supported: {SupportedOps}");
            }
        }

        private void Alias(NodeProto node, Value value) => _values[node.Output[0]] = value;

        /// <summary>Input <paramref name="index"/> of <paramref name="node"/>, which must be computed from the image.</summary>
        private Value Computed(NodeProto node, int index)
        {
            if (index >= node.Input.Count || node.Input[index].Length == 0)
                throw Unsupported(node, $"input {index} is missing");
            var name = node.Input[index];
            if (_values.TryGetValue(name, out var value)) return value;
            throw Unsupported(node, $"input '{name}' is a constant where the engine expects a tensor computed from the image");
        }

        private Value Spatial(NodeProto node, int index)
        {
            var value = Computed(node, index);
            if (value.Shape.Flat)
                throw Unsupported(node, $"it reads the vector '{node.Input[index]}' {value.Shape} where a feature map is expected");
            return value;
        }

        private TensorProto Constant(NodeProto node, string name, string role) =>
            _constants.TryGetValue(name, out var t) ? t : throw Unsupported(node, $"its {role} '{name}' is not a constant (weights must be initialisers)");

        private float[] Floats(NodeProto node, string name)
        {
            var t = Constant(node, name, "input");
            long count = t.Dims.Aggregate(1L, (a, b) => a * b);
            return t.DataType switch
            {
                (int)TensorProto.Types.DataType.Float => OnnxResNetImporter.FloatValues(t, count, $"constant '{name}' of {Describe(node)}"),
                (int)TensorProto.Types.DataType.Int64 => Int64s(t).Select(v => (float)v).ToArray(),
                (int)TensorProto.Types.DataType.Bool or (int)TensorProto.Types.DataType.Int32 =>
                    t.RawData.Length > 0 ? t.RawData.Select(b => (float)b).ToArray() : t.Int32Data.Select(v => (float)v).ToArray(),
                _ => throw Unsupported(node, $"constant '{name}' has ONNX data type {t.DataType}"),
            };
        }

        private static long[] Int64s(TensorProto t)
        {
            if (t.RawData.Length == 0) return t.Int64Data.ToArray();
            var values = new long[t.RawData.Length / sizeof(long)];
            t.RawData.Span.CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
            return values;
        }

        private long[] Int64Constant(NodeProto node, string name)
        {
            var t = Constant(node, name, "input");
            if (t.DataType != (int)TensorProto.Types.DataType.Int64)
                throw Unsupported(node, $"constant '{name}' should be int64");
            return Int64s(t);
        }

        /// <summary>A float initialiser (a weight), checked to hold as many values as <paramref name="shape"/>.</summary>
        private float[] Weight(NodeProto node, string name, string role, params long[] shape)
        {
            var t = Constant(node, name, role);
            if (t.DataType != (int)TensorProto.Types.DataType.Float)
                throw Unsupported(node, $"its {role} '{name}' has ONNX data type {t.DataType}; only float32 weights are read");
            var dims = t.Dims.ToArray();
            long count = dims.Aggregate(1L, (a, b) => a * b);
            if (shape.Length > 0 && count != shape.Aggregate(1L, (a, b) => a * b))
                throw Unsupported(node, $"its {role} '{name}' is [{string.Join(", ", dims)}] where [{string.Join(", ", shape)}] is expected");
            return OnnxResNetImporter.FloatValues(t, count, $"{role} '{name}' of {Describe(node)}");
        }

        private static AttributeProto? Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

        private static long Int(NodeProto node, string name, long fallback) => Attribute(node, name)?.I ?? fallback;

        private static float Float(NodeProto node, string name, float fallback) => Attribute(node, name)?.F ?? fallback;

        private static long[] Ints(NodeProto node, string name, long[] fallback) =>
            Attribute(node, name) is { } a ? a.Ints.ToArray() : fallback;

        private int Emit(NodeProto node, OnnxLayer layer, Shape shape)
        {
            _layers.Add(layer);
            int index = _layers.Count - 1;
            _values[node.Output[0]] = new Value(index, shape);
            return index;
        }

        private OnnxLayer Layer(NodeProto node, OnnxLayerKind kind, params Value[] inputs) =>
            new(NameOf(node), node.OpType, kind, inputs.Select(v => v.Layer).ToArray());

        private void AddWeight(int layer, string parameter, float[] values, params long[] shape) =>
            _weights[$"layer{layer}.{parameter}"] = (values, shape);

        /// <summary>Kernel, stride, symmetric padding and dilation of a 2-D window over <paramref name="input"/>, and the output size.</summary>
        private (long[] Kernel, long[] Stride, long[] Padding, long[] Dilation, long H, long W) Window(NodeProto node, Shape input, long[] kernel)
        {
            if (kernel.Length != 2)
                throw Unsupported(node, $"kernel [{string.Join(", ", kernel)}] is not 2-D");
            var stride = Ints(node, "strides", [1, 1]);
            var dilation = Ints(node, "dilations", [1, 1]);
            if (stride.Length != 2 || dilation.Length != 2)
                throw Unsupported(node, "strides and dilations must be 2-D");
            long[] size = [input.H, input.W];
            var autoPad = Attribute(node, "auto_pad")?.S.ToStringUtf8() ?? "NOTSET";
            long[] pads = autoPad switch
            {
                "NOTSET" or "" => Ints(node, "pads", [0, 0, 0, 0]),
                "VALID" => [0, 0, 0, 0],
                "SAME_UPPER" or "SAME_LOWER" => SamePads(size, kernel, stride, dilation, upper: autoPad == "SAME_UPPER"),
                _ => throw Unsupported(node, $"auto_pad '{autoPad}' is unknown"),
            };
            if (pads.Length != 4)
                throw Unsupported(node, $"pads [{string.Join(", ", pads)}] are not 2-D");
            bool ceil = Int(node, "ceil_mode", 0) != 0;
            var padding = new long[2];
            var output = new long[2];
            for (int d = 0; d < 2; d++)
            {
                long begin = pads[d], end = pads[d + 2];
                long reach = dilation[d] * (kernel[d] - 1) + 1;
                long OutputSize(long b, long e, bool c)
                {
                    long span = size[d] + b + e - reach;
                    if (span < 0) throw Unsupported(node, $"its window ({reach}) is larger than the padded input ({size[d] + b + e}) along axis {d + 2}");
                    return (c ? (span + stride[d] - 1) / stride[d] : span / stride[d]) + 1;
                }
                long onnx = OutputSize(begin, end, ceil);
                if (ceil && onnx != OutputSize(begin, end, false))
                    throw Unsupported(node, "ceil_mode changes the output size here, which the engine does not run");
                // Read as symmetric padding of the begin size: exact when it gives the same output size and pads no less at the
                // end, since then the last window ends inside the ONNX padding (the extra end positions are never read).
                if (begin != end && (end > begin || OutputSize(begin, begin, false) != onnx))
                    throw Unsupported(node,
                        $"pads [{string.Join(", ", pads)}] are asymmetric along axis {d + 2} in a way symmetric padding cannot reproduce for a {size[d]}-wide input");
                padding[d] = begin;
                output[d] = onnx;
            }
            return (kernel, stride, padding, dilation, output[0], output[1]);
        }

        private static long[] SamePads(long[] size, long[] kernel, long[] stride, long[] dilation, bool upper)
        {
            var pads = new long[4];
            for (int d = 0; d < 2; d++)
            {
                long outSize = (size[d] + stride[d] - 1) / stride[d];
                long total = Math.Max(0, (outSize - 1) * stride[d] + dilation[d] * (kernel[d] - 1) + 1 - size[d]);
                long small = total / 2;
                pads[d] = upper ? small : total - small;
                pads[d + 2] = total - pads[d];
            }
            return pads;
        }

        private void Conv(NodeProto node)
        {
            var x = Spatial(node, 0);
            var weightProto = Constant(node, node.Input[1], "weight");
            var dims = weightProto.Dims.ToArray();
            if (dims.Length != 4)
                throw Unsupported(node, $"its weight is [{string.Join(", ", dims)}]; only 2-D convolutions are read");
            long group = Int(node, "group", 1);
            if (dims[1] * group != x.Shape.C)
                throw Unsupported(node, $"its weight [{string.Join(", ", dims)}] with group {group} does not take the {x.Shape.C} channels of '{node.Input[0]}'");
            var kernel = Ints(node, "kernel_shape", [dims[2], dims[3]]);
            if (kernel.Length != 2 || kernel[0] != dims[2] || kernel[1] != dims[3])
                throw Unsupported(node, $"kernel_shape [{string.Join(", ", kernel)}] disagrees with its weight [{string.Join(", ", dims)}]");
            var w = Window(node, x.Shape, kernel);
            bool bias = node.Input.Count > 2 && node.Input[2].Length > 0;
            var layer = Layer(node, OnnxLayerKind.Convolution, x) with
            {
                Kernel = w.Kernel, Stride = w.Stride, Padding = w.Padding, Dilation = w.Dilation, Groups = group,
                InChannels = x.Shape.C, OutChannels = dims[0], Bias = bias,
            };
            int index = Emit(node, layer, new Shape(dims[0], w.H, w.W, Flat: false));
            AddWeight(index, "weight", Weight(node, node.Input[1], "weight", dims), dims);
            if (bias)
                AddWeight(index, "bias", Weight(node, node.Input[2], "bias", dims[0]), dims[0]);
        }

        private void BatchNorm(NodeProto node)
        {
            var x = Spatial(node, 0);
            if (node.Input.Count != 5)
                throw Unsupported(node, "it needs scale, bias, mean and variance");
            if (Int(node, "spatial", 1) != 1)
                throw Unsupported(node, "spatial = 0 (per-position statistics) is not BatchNorm2d");
            if (Int(node, "training_mode", 0) != 0)
                throw Unsupported(node, "training_mode is on");
            if (node.Output.Skip(1).Any(o => o.Length > 0 && _readers.GetValueOrDefault(o) > 0))
                throw Unsupported(node, "its training statistics outputs are read");
            long c = x.Shape.C;
            int index = Emit(node, Layer(node, OnnxLayerKind.BatchNorm, x) with { InChannels = c, Epsilon = Float(node, "epsilon", 1e-5f) }, x.Shape);
            AddWeight(index, "weight", Weight(node, node.Input[1], "scale", c), c);
            AddWeight(index, "bias", Weight(node, node.Input[2], "bias", c), c);
            AddWeight(index, "running_mean", Weight(node, node.Input[3], "mean", c), c);
            AddWeight(index, "running_var", Weight(node, node.Input[4], "variance", c), c);
        }

        private void Activation(NodeProto node, string name, double alpha, double beta)
        {
            var x = Computed(node, 0);
            Emit(node, Layer(node, OnnxLayerKind.Activation, x) with { Activation = name, Alpha = alpha, Beta = beta }, x.Shape);
        }

        private void Clip(NodeProto node)
        {
            double min, max;
            if (opset < 11)
            {
                min = Float(node, "min", float.MinValue);
                max = Float(node, "max", float.MaxValue);
            }
            else
            {
                double Bound(int i, double fallback) => node.Input.Count > i && node.Input[i].Length > 0 ? Floats(node, node.Input[i]).Single() : fallback;
                min = Bound(1, float.MinValue);
                max = Bound(2, float.MaxValue);
            }
            if (!(min <= max))
                throw Unsupported(node, $"its bounds [{min}, {max}] are empty");
            Activation(node, "Clip", min, max);
        }

        private void Pool(NodeProto node)
        {
            var x = Spatial(node, 0);
            bool max = node.OpType == "MaxPool";
            if (max && node.Output.Count > 1 && node.Output[1].Length > 0 && _readers.GetValueOrDefault(node.Output[1]) > 0)
                throw Unsupported(node, "its indices output is read");
            if (!max && Ints(node, "dilations", [1, 1]).Any(d => d != 1))
                throw Unsupported(node, "dilated average pooling is not supported");
            var kernel = Ints(node, "kernel_shape", []);
            var w = Window(node, x.Shape, kernel);
            bool countPad = Int(node, "count_include_pad", 0) != 0;
            // An average over the whole map is the global average (CNTK's ResNet-18 ends that way).
            if (!max && w.H == 1 && w.W == 1 && w.Padding.All(p => p == 0) && kernel[0] == x.Shape.H && kernel[1] == x.Shape.W)
            {
                GlobalPool(node, x, keepDims: true);
                return;
            }
            if (w.Padding[0] * 2 > kernel[0] || w.Padding[1] * 2 > kernel[1])
                throw Unsupported(node, $"padding [{string.Join(", ", w.Padding)}] is more than half the window");
            var layer = Layer(node, max ? OnnxLayerKind.MaxPool : OnnxLayerKind.AveragePool, x) with
            {
                Kernel = w.Kernel, Stride = w.Stride, Padding = w.Padding, Dilation = w.Dilation, CountIncludePad = countPad,
            };
            Emit(node, layer, x.Shape with { H = w.H, W = w.W });
        }

        private void GlobalPool(NodeProto node, Value x, bool keepDims)
        {
            if (x.Shape.Flat)
                throw Unsupported(node, "it pools a vector");
            var pooled = new Shape(x.Shape.C, 1, 1, Flat: false);
            if (keepDims)
            {
                Emit(node, Layer(node, OnnxLayerKind.GlobalAveragePool, x), pooled);
                return;
            }
            int pool = Emit(node, Layer(node, OnnxLayerKind.GlobalAveragePool, x), pooled);
            Emit(node, Layer(node, OnnxLayerKind.Flatten, new Value(pool, pooled)), new Shape(x.Shape.C, 1, 1, Flat: true));
        }

        private void ReduceMean(NodeProto node)
        {
            var x = Spatial(node, 0);
            var axes = opset >= 18 && node.Input.Count > 1 && node.Input[1].Length > 0 ? Int64Constant(node, node.Input[1]) : Ints(node, "axes", []);
            var normalized = axes.Select(a => a < 0 ? a + 4 : a).OrderBy(a => a).ToArray();
            if (!normalized.SequenceEqual(new long[] { 2, 3 }))
                throw Unsupported(node, $"it averages over axes [{string.Join(", ", axes)}]; only the spatial mean (axes 2 and 3) is a global average pool");
            GlobalPool(node, x, keepDims: Int(node, "keepdims", 1) != 0);
        }

        private void FlattenTo(NodeProto node, Value x)
        {
            if (x.Shape.Flat)
            {
                Alias(node, x);
                return;
            }
            Emit(node, Layer(node, OnnxLayerKind.Flatten, x), new Shape(x.Shape.Size, 1, 1, Flat: true));
        }

        private void Flatten(NodeProto node)
        {
            var x = Computed(node, 0);
            if (Int(node, "axis", 1) != 1)
                throw Unsupported(node, $"axis {Int(node, "axis", 1)}: only flattening each image to one vector (axis 1) is read");
            FlattenTo(node, x);
        }

        private void Reshape(NodeProto node)
        {
            var x = Computed(node, 0);
            if (node.Input.Count < 2)
                throw Unsupported(node, "the shape input is missing");
            var shape = Int64Constant(node, node.Input[1]);
            if (shape.Length != 2 || shape[0] is not (0 or 1 or -1) || shape[1] != x.Shape.Size && !(shape[1] == -1 && shape[0] != -1))
                throw Unsupported(node, $"it reshapes {x.Shape} to [{string.Join(", ", shape)}]; only a reshape to one vector per image is read");
            FlattenTo(node, x);
        }

        private void Squeeze(NodeProto node)
        {
            var x = Spatial(node, 0);
            var axes = opset >= 13 && node.Input.Count > 1 && node.Input[1].Length > 0 ? Int64Constant(node, node.Input[1]) : Ints(node, "axes", []);
            if (x.Shape.H != 1 || x.Shape.W != 1 || !axes.Select(a => a < 0 ? a + 4 : a).OrderBy(a => a).SequenceEqual(new long[] { 2, 3 }))
                throw Unsupported(node, $"it squeezes axes [{string.Join(", ", axes)}] of {x.Shape}; only squeezing a 1×1 map (axes 2 and 3) to a vector is read");
            FlattenTo(node, x);
        }

        private Value Vector(NodeProto node, int index)
        {
            var x = Computed(node, index);
            if (!x.Shape.Flat)
                throw Unsupported(node, $"it reads the map '{node.Input[index]}' {x.Shape}; flatten it to a vector first");
            return x;
        }

        private void Gemm(NodeProto node)
        {
            var x = Vector(node, 0);
            if (Int(node, "transA", 0) != 0)
                throw Unsupported(node, "transA = 1 is not read");
            var b = Constant(node, node.Input[1], "weight");
            if (b.Dims.Count != 2)
                throw Unsupported(node, "its weight is not a matrix");
            bool transB = Int(node, "transB", 0) != 0;
            long inFeatures = transB ? b.Dims[1] : b.Dims[0], outFeatures = transB ? b.Dims[0] : b.Dims[1];
            if (inFeatures != x.Shape.C)
                throw Unsupported(node, $"its weight [{string.Join(", ", b.Dims)}] does not take the {x.Shape.C} features of '{node.Input[0]}'");
            float alpha = Float(node, "alpha", 1f), beta = Float(node, "beta", 1f);
            var weight = Weight(node, node.Input[1], "weight", b.Dims.ToArray());
            if (!transB) weight = Transpose(weight, inFeatures, outFeatures);
            if (alpha != 1f) weight = weight.Select(v => v * alpha).ToArray();
            bool bias = node.Input.Count > 2 && node.Input[2].Length > 0;
            int index = Emit(node, Layer(node, OnnxLayerKind.Linear, x) with { InChannels = inFeatures, OutChannels = outFeatures, Bias = bias },
                new Shape(outFeatures, 1, 1, Flat: true));
            AddWeight(index, "weight", weight, outFeatures, inFeatures);
            if (bias)
                AddWeight(index, "bias", Broadcast(node, Weight(node, node.Input[2], "bias"), outFeatures).Select(v => v * beta).ToArray(), outFeatures);
        }

        private float[] Broadcast(NodeProto node, float[] values, long count) =>
            values.Length == count ? values
            : values.Length == 1 ? Enumerable.Repeat(values[0], (int)count).ToArray()
            : throw Unsupported(node, $"its bias has {values.Length} values for {count} outputs");

        private static float[] Transpose(float[] matrix, long rows, long columns)
        {
            var result = new float[matrix.Length];
            for (long r = 0; r < rows; r++)
                for (long c = 0; c < columns; c++)
                    result[c * rows + r] = matrix[r * columns + c];
            return result;
        }

        private void MatMul(NodeProto node)
        {
            var x = Vector(node, 0);
            var b = Constant(node, node.Input[1], "weight");
            if (b.Dims.Count != 2 || b.Dims[0] != x.Shape.C)
                throw Unsupported(node, $"its weight [{string.Join(", ", b.Dims)}] does not take the {x.Shape.C} features of '{node.Input[0]}'");
            long inFeatures = b.Dims[0], outFeatures = b.Dims[1];
            var weight = Transpose(Weight(node, node.Input[1], "weight", b.Dims.ToArray()), inFeatures, outFeatures);
            int index = Emit(node, Layer(node, OnnxLayerKind.Linear, x) with { InChannels = inFeatures, OutChannels = outFeatures, Bias = false },
                new Shape(outFeatures, 1, 1, Flat: true));
            AddWeight(index, "weight", weight, outFeatures, inFeatures);
        }

        private void Add(NodeProto node)
        {
            if (node.Input.Count != 2)
                throw Unsupported(node, "it does not have two inputs");
            bool firstComputed = _values.ContainsKey(node.Input[0]), secondComputed = _values.ContainsKey(node.Input[1]);
            if (firstComputed && secondComputed)
            {
                var a = Computed(node, 0);
                var b = Computed(node, 1);
                if (a.Shape != b.Shape)
                    throw Unsupported(node, $"it adds {a.Shape} and {b.Shape}; only tensors of the same shape are summed (no broadcasting)");
                if (a.Layer == b.Layer)
                    throw Unsupported(node, "it adds a tensor to itself");
                Emit(node, Layer(node, OnnxLayerKind.Add, a, b), a.Shape);
                return;
            }
            // A bias after MatMul: the Linear layer takes it.
            var x = Computed(node, firstComputed ? 0 : 1);
            string constant = node.Input[firstComputed ? 1 : 0];
            if (x.Layer < 0 || _layers[x.Layer] is not { Kind: OnnxLayerKind.Linear, Bias: false } linear
                || _readers.GetValueOrDefault(node.Input[firstComputed ? 0 : 1]) != 1)
                throw Unsupported(node, $"it adds the constant '{constant}' to a tensor that is not the output of a MatMul read only by it; " +
                    "constant offsets are read only as a Linear layer's bias");
            _layers[x.Layer] = linear with { Bias = true, OpType = "MatMul+Add" };
            AddWeight(x.Layer, "bias", Broadcast(node, Weight(node, constant, "bias"), linear.OutChannels), linear.OutChannels);
            Alias(node, x);
        }

        private void Concat(NodeProto node)
        {
            var inputs = Enumerable.Range(0, node.Input.Count).Select(i => Spatial(node, i)).ToArray();
            long axis = Int(node, "axis", 1);
            if (axis is not (1 or -3))
                throw Unsupported(node, $"it concatenates along axis {axis}; only channels (axis 1) are read");
            if (inputs.Any(v => v.Shape.H != inputs[0].Shape.H || v.Shape.W != inputs[0].Shape.W))
                throw Unsupported(node, $"its inputs have different spatial sizes ({string.Join(", ", inputs.Select(v => v.Shape))})");
            if (inputs.Select(v => v.Layer).Distinct().Count() != inputs.Length)
                throw Unsupported(node, "it reads one tensor twice");
            Emit(node, Layer(node, OnnxLayerKind.Concat, inputs), inputs[0].Shape with { C = inputs.Sum(v => v.Shape.C) });
        }

        private void Mul(NodeProto node)
        {
            if (node.Input.Count != 2 || node.Input.Any(i => !_values.ContainsKey(i)))
                throw Unsupported(node, "it multiplies by a constant; only x·Sigmoid(x), x·HardSigmoid(x) and squeeze-and-excitation channel scales are read");
            var a = Computed(node, 0);
            var b = Computed(node, 1);
            // x · g(x) with g read only here: one element-wise activation.
            foreach (var (x, gate, gateName) in new[] { (a, b, node.Input[1]), (b, a, node.Input[0]) })
            {
                if (gate.Layer >= 0 && _layers[gate.Layer] is { Kind: OnnxLayerKind.Activation, Activation: "Sigmoid" or "HardSigmoid" } g
                    && g.Inputs[0] == x.Layer && _readers.GetValueOrDefault(gateName) == 1)
                {
                    _layers[gate.Layer] = g with
                    {
                        Name = NameOf(node), OpType = $"Mul({g.OpType})", Activation = g.Activation == "Sigmoid" ? "SiLU" : "GatedHardSigmoid",
                    };
                    Alias(node, gate);
                    return;
                }
            }
            // A map times per-channel scales of [C, 1, 1] (squeeze-and-excitation; the engine checks how the scales are made).
            var (map, scale) = a.Shape.H == 1 && a.Shape.W == 1 && !(b.Shape.H == 1 && b.Shape.W == 1) ? (b, a) : (a, b);
            if (map.Shape.Flat || scale.Shape.Flat || scale.Shape.H != 1 || scale.Shape.W != 1 || scale.Shape.C != map.Shape.C)
                throw Unsupported(node, $"it multiplies {a.Shape} by {b.Shape}; only x·Sigmoid(x), x·HardSigmoid(x) and a map times [C, 1, 1] channel scales are read");
            Emit(node, Layer(node, OnnxLayerKind.ChannelScale, map, scale), map.Shape);
        }

        /// <summary>The layers the output depends on, renumbered in their order (dead branches dropped).</summary>
        private OnnxLayer[] KeepAncestors(int output, out int[] renumber)
        {
            var needed = new bool[_layers.Count];
            var stack = new Stack<int>([output]);
            while (stack.Count > 0)
            {
                int i = stack.Pop();
                if (i < 0 || needed[i]) continue;
                needed[i] = true;
                foreach (var j in _layers[i].Inputs) stack.Push(j);
            }
            renumber = new int[_layers.Count];
            var kept = new List<OnnxLayer>();
            for (int i = 0; i < _layers.Count; i++)
            {
                renumber[i] = needed[i] ? kept.Count : -1;
                if (needed[i]) kept.Add(_layers[i]);
            }
            var map = renumber;
            return kept.Select(l => l with { Inputs = l.Inputs.Select(j => j < 0 ? -1 : map[j]).ToArray() }).ToArray();
        }

        private static int LayerOf(string key) => int.Parse(key.AsSpan(5, key.IndexOf('.') - 5), CultureInfo.InvariantCulture);

        private static string Renamed(string key, int[] renumber) => $"layer{renumber[LayerOf(key)]}{key[key.IndexOf('.')..]}";
    }
}
