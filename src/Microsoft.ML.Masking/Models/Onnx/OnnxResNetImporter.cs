using Google.Protobuf;
using Microsoft.ML.Masking.Core;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Models.Onnx;

/// <summary>
/// Reads a ResNet with basic blocks (ResNet-18/34 style) from an ONNX file into the project's torchvision-compatible
/// <see cref="ResNet"/>, so layer masking and everything else runs on it. The graph is walked from its input
/// (stem Conv → BatchNormalization → Relu → MaxPool; blocks Conv → BN → Relu → Conv → BN → Add(identity or
/// Conv → BN downsample) → Relu; AveragePool/GlobalAveragePool over the whole map); the initialisers are mapped to
/// the state-dict names by that structure, not by their names.
/// </summary>
/// <remarks>
/// <para>Made for ML.NET's ImageNet ResNet-18 (package Microsoft.ML.DnnImageFeaturizer.ResNet18,
/// <c>DnnImageModels/ResNet18Onnx/ResNet18.onnx</c>, exported by CNTK, opset 8). Despite its name that network has
/// nine basic blocks, stages [2, 2, 2, 3], which the walk reads from the graph (<see cref="ResNetArchitecture.Layers"/>
/// of the result). It has no classifier:
/// its output is the 512 pooled features, so the imported <see cref="ResNet"/>'s <c>fc</c> holds zeros; use
/// <see cref="ResNet.Features"/> or the layer-masked network's features, or train a head.</para>
/// <para>Its input is what ML.NET's <c>ResNetPreprocess.onnx</c> produces: the image in BGR order on a 0–255 scale
/// minus a per-pixel mean image (1×3×224×224, 95–130), not an ImageNet per-channel normalisation.</para>
/// <para>Asymmetric ONNX padding (CNTK writes begin 3 / end 2 for the stride-2 7×7 stem, begin 1 / end 0 for the
/// stride-2 3×3 convolutions and the max-pool) is read as torchvision's symmetric padding of the begin size. That is
/// exact when the extra end row is never reached by a window, which holds for even map sizes (224 → 112 → 56 → 28 →
/// 14 → 7); the tests check the result against ONNX Runtime.</para>
/// <para>Supported ops: Conv (no bias, group 1, dilation 1), BatchNormalization (epsilon 1e-5), Relu, MaxPool,
/// Add, AveragePool or GlobalAveragePool, optionally a trailing Flatten/Reshape. Anything else fails with an error
/// naming the node (name and op type).</para>
/// </remarks>
public static class OnnxResNetImporter
{
    /// <summary>Reads <paramref name="onnxPath"/> into a <see cref="ResNet"/> (CPU, float32, evaluation mode).</summary>
    /// <param name="onnxPath">The ONNX file.</param>
    /// <param name="numClasses">Outputs of the (zero) <c>fc</c> layer the file does not carry. Default: 1000.</param>
    /// <exception cref="NotSupportedException">The graph is not a basic-block ResNet; the message names the node.</exception>
    public static ResNet ImportResNet(string onnxPath, int numClasses = 1000)
    {
        ArgumentException.ThrowIfNullOrEmpty(onnxPath);
        if (!File.Exists(onnxPath))
            throw new FileNotFoundException($"ONNX file '{onnxPath}' does not exist.", onnxPath);
        ModelProto model;
        using (var stream = File.OpenRead(onnxPath))
            model = ModelProto.Parser.ParseFrom(stream);
        return ImportResNet(model, numClasses);
    }

    /// <summary>
    /// Reads ML.NET's <c>ResNetPreprocess.onnx</c> (package Microsoft.ML.DnnImageFeaturizer.ResNet18,
    /// <c>DnnImageModels/ResNetPrepOnnx</c>) into the <see cref="ChannelNormalization"/> it computes: Split the image
    /// along the channels, Concat them in another order (RGB → BGR), Sub a per-pixel mean image (an initialiser of
    /// [1, C, H, W] or [C, H, W]). The mean image is returned in the input's channel order, as the normalisation
    /// keeps everything in pixel space.
    /// </summary>
    /// <param name="preprocessOnnxPath">The preprocessing ONNX file.</param>
    /// <exception cref="NotSupportedException">The graph is not Split → Concat → Sub(mean image), or has other nodes (the message names the node).</exception>
    public static ChannelNormalization ReadMeanImagePreprocessing(string preprocessOnnxPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(preprocessOnnxPath);
        if (!File.Exists(preprocessOnnxPath))
            throw new FileNotFoundException($"ONNX file '{preprocessOnnxPath}' does not exist.", preprocessOnnxPath);
        ModelProto model;
        using (var stream = File.OpenRead(preprocessOnnxPath))
            model = ModelProto.Parser.ParseFrom(stream);
        return ReadMeanImagePreprocessing(model);
    }

    /// <summary>Reads an already parsed preprocessing model; see <see cref="ReadMeanImagePreprocessing(string)"/>.</summary>
    internal static ChannelNormalization ReadMeanImagePreprocessing(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph ?? throw new NotSupportedException("The ONNX model has no graph.");
        var initialisers = graph.Initializer.ToDictionary(t => t.Name);
        var nodes = graph.Node.ToList();
        var other = nodes.FirstOrDefault(n => n.OpType is not ("Split" or "Concat" or "Sub"));
        if (other is not null || nodes.Count != 3 || nodes.Select(n => n.OpType).Distinct().Count() != 3)
            throw new NotSupportedException(
                $"A mean-image preprocessing graph has three nodes, Split → Concat → Sub; this one has {nodes.Count}" +
                (other is null ? "." : $", among them '{other.Name}' ({other.OpType})."));
        var split = nodes.Single(n => n.OpType == "Split");
        var concat = nodes.Single(n => n.OpType == "Concat");
        var sub = nodes.Single(n => n.OpType == "Sub");
        static long Axis(NodeProto node) => node.Attribute.FirstOrDefault(a => a.Name == "axis")?.I ?? 0;
        if (Axis(split) != 1 || Axis(concat) != 1)
            throw new NotSupportedException($"Split '{split.Name}' and Concat '{concat.Name}' must work along the channels (axis 1).");
        var order = concat.Input.Select(name => split.Output.IndexOf(name)).ToArray();
        if (order.Length != split.Output.Count || order.Any(i => i < 0))
            throw new NotSupportedException($"Concat '{concat.Name}' must join exactly the outputs of Split '{split.Name}', in some order.");
        if (sub.Input.Count != 2 || sub.Input[0] != concat.Output[0] || !initialisers.TryGetValue(sub.Input[1], out var meanProto))
            throw new NotSupportedException($"Sub '{sub.Name}' must subtract an initialiser (the mean image) from the output of Concat '{concat.Name}'.");
        var dims = meanProto.Dims.ToArray();
        if (dims.Length == 4 && dims[0] == 1)
            dims = dims[1..];
        if (dims.Length != 3 || dims[0] != order.Length || meanProto.DataType != (int)TensorProto.Types.DataType.Float)
            throw new NotSupportedException(
                $"The mean image '{meanProto.Name}' must be float [1, {order.Length}, H, W]; it is type {meanProto.DataType}, [{string.Join(", ", meanProto.Dims)}].");
        var shape = new Data.ImageShape((int)dims[0], (int)dims[1], (int)dims[2]);
        var networkOrder = FloatValues(meanProto, shape.Channels * shape.Height * shape.Width, $"mean image '{meanProto.Name}'");
        // The file's mean image is in the network's (concatenated) order; network channel c is input channel order[c].
        int plane = shape.Height * shape.Width;
        var inputOrder = new float[networkOrder.Length];
        for (int c = 0; c < order.Length; c++)
            Array.Copy(networkOrder, c * plane, inputOrder, order[c] * plane, plane);
        return ChannelNormalization.FromMeanImage(inputOrder, shape, order);
    }

    /// <summary>The float values of an initialiser (raw little-endian bytes or the float list).</summary>
    internal static float[] FloatValues(TensorProto proto, long count, string what)
    {
        if (proto.RawData.Length > 0)
        {
            if (proto.RawData.Length != count * sizeof(float))
                throw new NotSupportedException($"The {what} holds {proto.RawData.Length} bytes for {count} floats.");
            var values = new float[count];
            // ONNX raw data is little-endian, as is every platform TorchSharp runs on.
            proto.RawData.Span.CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
            return values;
        }
        if (proto.FloatData.Count != count)
            throw new NotSupportedException($"The {what} holds {proto.FloatData.Count} floats for its shape [{string.Join(", ", proto.Dims)}].");
        return proto.FloatData.ToArray();
    }

    /// <summary>Reads an already parsed ONNX model; see <see cref="ImportResNet(string, int)"/>.</summary>
    internal static ResNet ImportResNet(ModelProto model, int numClasses = 1000)
    {
        ArgumentNullException.ThrowIfNull(model);
        var walk = new GraphWalk(model.Graph);
        var weights = new Dictionary<string, Tensor>();
        try
        {
            var layers = walk.Read(weights);
            var architecture = new ResNetArchitecture
            {
                Block = ResidualBlockKind.Basic,
                Layers = layers,
                BaseWidth = walk.BaseWidth,
                InputChannels = walk.InputChannels,
                NumClasses = numClasses,
                SmallImageStem = false,
            };
            var network = new ResNet(architecture);
            using (no_grad())
            {
                foreach (var (name, parameter) in network.state_dict())
                {
                    if (name.StartsWith("fc.", StringComparison.Ordinal))
                    {
                        parameter.zero_();
                        continue;
                    }
                    if (name.EndsWith("num_batches_tracked", StringComparison.Ordinal))
                        continue;
                    if (!weights.TryGetValue(name, out var value))
                        throw new NotSupportedException($"The ONNX graph gave no value for the ResNet parameter '{name}'.");
                    if (!value.shape.SequenceEqual(parameter.shape))
                        throw new NotSupportedException(
                            $"ResNet parameter '{name}' has shape [{string.Join(", ", parameter.shape)}] but the ONNX graph gives [{string.Join(", ", value.shape)}] ({walk.SourceOf(name)}).");
                    parameter.copy_(value);
                }
            }
            network.eval();
            return network;
        }
        finally
        {
            foreach (var t in weights.Values)
                t.Dispose();
        }
    }

    /// <summary>The structural walk over the ONNX graph; one instance per import.</summary>
    private sealed class GraphWalk
    {
        private readonly GraphProto _graph;
        private readonly Dictionary<string, TensorProto> _initialisers;
        private readonly Dictionary<string, List<NodeProto>> _consumers = new();
        private readonly Dictionary<string, string> _sources = new();

        public GraphWalk(GraphProto graph)
        {
            _graph = graph ?? throw new NotSupportedException("The ONNX model has no graph.");
            _initialisers = graph.Initializer.ToDictionary(t => t.Name);
            foreach (var node in graph.Node)
                foreach (var input in node.Input)
                {
                    if (!_consumers.TryGetValue(input, out var list))
                        _consumers[input] = list = new List<NodeProto>();
                    list.Add(node);
                }
        }

        public int BaseWidth { get; private set; }

        public int InputChannels { get; private set; }

        public string SourceOf(string parameter) => _sources.TryGetValue(parameter, out var s) ? s : "unknown node";

        public int[] Read(Dictionary<string, Tensor> weights)
        {
            var inputs = _graph.Input.Where(i => !_initialisers.ContainsKey(i.Name)).ToList();
            if (inputs.Count != 1)
                throw new NotSupportedException($"A ResNet graph has one image input; this one has {inputs.Count} ({string.Join(", ", inputs.Select(i => i.Name))}).");
            var x = inputs[0].Name;

            // Stem: Conv 7×7 stride 2 → BN → Relu → MaxPool 3×3 stride 2.
            var conv = Single(x, "Conv", "the stem convolution");
            ReadConv(conv, "conv1", 7, 2, 3, weights);
            var stemWeight = weights["conv1.weight"];
            BaseWidth = (int)stemWeight.shape[0];
            InputChannels = (int)stemWeight.shape[1];
            var bn = Single(conv.Output[0], "BatchNormalization", "the stem BatchNorm");
            ReadBatchNorm(bn, "bn1", weights);
            var relu = Single(bn.Output[0], "Relu", "the stem ReLU");
            var pool = Single(relu.Output[0], "MaxPool", "the stem max-pool");
            CheckWindow(pool, 3, 2, 1);
            x = pool.Output[0];

            var layers = new List<int>();
            int channels = BaseWidth;
            int stage = -1, block = 0;
            while (true)
            {
                var consumers = Consumers(x);
                if (consumers.Count == 1 && consumers[0].OpType is "AveragePool" or "GlobalAveragePool")
                {
                    CheckGlobalPool(consumers[0]);
                    break;
                }
                var convs = consumers.Where(n => n.OpType == "Conv").ToList();
                var other = consumers.FirstOrDefault(n => n.OpType is not ("Conv" or "Add"));
                if (other is not null)
                    throw Unsupported(other, $"a residual block's input '{x}' feeds it; a basic-block ResNet expects Conv, Add or the final average pool");
                if (convs.Count is 0 or > 2)
                    throw new NotSupportedException($"Tensor '{x}' feeds {convs.Count} Conv nodes; a basic-block ResNet feeds one (identity block) or two (downsample block).");

                // The downsample branch is the Conv whose BatchNorm goes straight into an Add.
                NodeProto? downsample = null;
                NodeProto main = convs[0];
                if (convs.Count == 2)
                {
                    bool firstIsShortcut = IsShortcut(convs[0]);
                    downsample = firstIsShortcut ? convs[0] : convs[1];
                    main = firstIsShortcut ? convs[1] : convs[0];
                    if (!IsShortcut(downsample) || IsShortcut(main))
                        throw Unsupported(convs[0], "two convolutions read one tensor but not as a main path and a Conv → BN → Add downsample");
                }
                int stride = (int)Ints(main, "strides", [1, 1])[0];
                bool newStage = stage < 0 || downsample is not null;
                if (newStage)
                {
                    stage++;
                    block = 0;
                    layers.Add(0);
                }
                int planes = BaseWidth << stage;
                string prefix = $"layer{stage + 1}.{block}";
                ReadConv(main, prefix + ".conv1", 3, stride, 1, weights);
                var bn1 = Single(main.Output[0], "BatchNormalization", $"{prefix}.bn1");
                ReadBatchNorm(bn1, prefix + ".bn1", weights);
                var relu1 = Single(bn1.Output[0], "Relu", $"{prefix} inner ReLU");
                var conv2 = Single(relu1.Output[0], "Conv", $"{prefix}.conv2");
                ReadConv(conv2, prefix + ".conv2", 3, 1, 1, weights);
                var bn2 = Single(conv2.Output[0], "BatchNormalization", $"{prefix}.bn2");
                ReadBatchNorm(bn2, prefix + ".bn2", weights);
                var add = Single(bn2.Output[0], "Add", $"{prefix} residual sum");
                string shortcut;
                if (downsample is not null)
                {
                    ReadConv(downsample, prefix + ".downsample.0", 1, stride, 0, weights);
                    var dbn = Single(downsample.Output[0], "BatchNormalization", $"{prefix}.downsample.1");
                    ReadBatchNorm(dbn, prefix + ".downsample.1", weights);
                    shortcut = dbn.Output[0];
                }
                else
                {
                    if (stride != 1 || (stage == 0 ? BaseWidth : planes) != channels)
                        throw Unsupported(main, "a block without downsample must keep stride 1 and the channel count");
                    shortcut = x;
                }
                var sum = add.Input.ToList();
                if (sum.Count != 2 || !sum.Contains(bn2.Output[0]) || !sum.Contains(shortcut))
                    throw Unsupported(add, $"the residual sum must add '{bn2.Output[0]}' and '{shortcut}'");
                var relu2 = Single(add.Output[0], "Relu", $"{prefix} output ReLU");
                if ((int)weights[prefix + ".conv1.weight"].shape[0] != planes)
                    throw Unsupported(main, $"stage {stage + 1} should have {planes} channels (base width {BaseWidth}, doubled per stage)");
                channels = planes;
                layers[^1]++;
                block++;
                x = relu2.Output[0];
            }
            if (layers.Count == 0)
                throw new NotSupportedException("The ONNX graph has a stem but no residual blocks.");
            return layers.ToArray();
        }

        private bool IsShortcut(NodeProto conv)
        {
            var next = Consumers(conv.Output[0]);
            return next.Count == 1 && next[0].OpType == "BatchNormalization"
                && Consumers(next[0].Output[0]) is [{ OpType: "Add" }];
        }

        private List<NodeProto> Consumers(string tensor) =>
            _consumers.TryGetValue(tensor, out var list) ? list : [];

        private NodeProto Single(string tensor, string opType, string role)
        {
            var next = Consumers(tensor);
            if (next.Count != 1)
                throw new NotSupportedException(
                    $"Expected {role} ({opType}) to be the only reader of '{tensor}', but {next.Count} nodes read it: {string.Join(", ", next.Select(Describe))}.");
            if (next[0].OpType != opType)
                throw Unsupported(next[0], $"expected {role} ({opType}) here");
            return next[0];
        }

        private static string Describe(NodeProto node) => $"'{node.Name}' ({node.OpType})";

        private static NotSupportedException Unsupported(NodeProto node, string why) =>
            new($"ONNX node {Describe(node)} does not fit a basic-block ResNet: {why}.");

        private static long[] Ints(NodeProto node, string name, long[] fallback)
        {
            var attribute = node.Attribute.FirstOrDefault(a => a.Name == name);
            return attribute is null ? fallback : attribute.Ints.ToArray();
        }

        private static void CheckPads(NodeProto node, int padding)
        {
            var autoPad = node.Attribute.FirstOrDefault(a => a.Name == "auto_pad")?.S.ToStringUtf8() ?? "NOTSET";
            if (autoPad is not ("NOTSET" or ""))
                throw Unsupported(node, $"auto_pad {autoPad} is not supported");
            var pads = Ints(node, "pads", [0, 0, 0, 0]);
            // [top, left, bottom, right]: the begins must equal torchvision's padding; an end one smaller is read as
            // symmetric (see the class remarks).
            if (pads.Length != 4 || pads[0] != padding || pads[1] != padding
                || pads[2] > padding || pads[3] > padding || pads[2] < padding - 1 || pads[3] < padding - 1)
                throw Unsupported(node, $"pads [{string.Join(", ", pads)}] do not match a padding of {padding}");
        }

        private static void CheckWindow(NodeProto node, int kernel, int stride, int padding)
        {
            var k = Ints(node, "kernel_shape", []);
            var s = Ints(node, "strides", [1, 1]);
            if (!k.SequenceEqual(new long[] { kernel, kernel }))
                throw Unsupported(node, $"kernel [{string.Join(", ", k)}] where {kernel}×{kernel} is expected");
            if (!s.SequenceEqual(new long[] { stride, stride }))
                throw Unsupported(node, $"strides [{string.Join(", ", s)}] where {stride} is expected");
            CheckPads(node, padding);
            var d = Ints(node, "dilations", [1, 1]);
            if (d.Any(v => v != 1))
                throw Unsupported(node, "dilated windows are not supported");
        }

        private void CheckGlobalPool(NodeProto pool)
        {
            if (pool.OpType == "AveragePool")
            {
                // A k×k window with stride 1 and no padding over a k×k map is the global average; the map size is
                // checked by the ONNX Runtime comparison, the window here.
                var pads = Ints(pool, "pads", [0, 0, 0, 0]);
                if (pads.Any(p => p != 0))
                    throw Unsupported(pool, "the final average pool must not pad");
                var k = Ints(pool, "kernel_shape", []);
                if (k.Length != 2 || k[0] != k[1])
                    throw Unsupported(pool, "the final average pool must have a square window");
            }
            var rest = Consumers(pool.Output[0]);
            if (rest.Count > 1 || rest.Count == 1 && rest[0].OpType is not ("Flatten" or "Reshape" or "Squeeze"))
                throw Unsupported(rest[0], "only a flatten may follow the global average pool (the file must end at the pooled features)");
        }

        private void ReadConv(NodeProto conv, string name, int kernel, int stride, int padding, Dictionary<string, Tensor> weights)
        {
            if (conv.Input.Count != 2)
                throw Unsupported(conv, "convolutions with a bias are not supported (torchvision's ResNet has none)");
            var group = conv.Attribute.FirstOrDefault(a => a.Name == "group")?.I ?? 1;
            if (group != 1)
                throw Unsupported(conv, $"group {group} is not supported");
            CheckWindow(conv, kernel, stride, padding);
            weights[name + ".weight"] = Initialiser(conv, conv.Input[1], name + ".weight");
        }

        private void ReadBatchNorm(NodeProto bn, string name, Dictionary<string, Tensor> weights)
        {
            if (bn.Input.Count != 5)
                throw Unsupported(bn, "BatchNormalization needs scale, bias, mean and variance");
            var epsilon = bn.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
            if (Math.Abs(epsilon - 1e-5f) > 1e-9f)
                throw Unsupported(bn, $"epsilon {epsilon} differs from the 1e-5 of torchvision's BatchNorm");
            weights[name + ".weight"] = Initialiser(bn, bn.Input[1], name + ".weight");
            weights[name + ".bias"] = Initialiser(bn, bn.Input[2], name + ".bias");
            weights[name + ".running_mean"] = Initialiser(bn, bn.Input[3], name + ".running_mean");
            weights[name + ".running_var"] = Initialiser(bn, bn.Input[4], name + ".running_var");
        }

        private Tensor Initialiser(NodeProto node, string input, string parameter)
        {
            if (!_initialisers.TryGetValue(input, out var proto))
                throw Unsupported(node, $"input '{input}' is not an initialiser (weights must be constants)");
            if (proto.DataType != (int)TensorProto.Types.DataType.Float)
                throw Unsupported(node, $"initialiser '{input}' has ONNX data type {proto.DataType}; only float32 is supported");
            _sources[parameter] = $"initialiser '{input}' of node {Describe(node)}";
            long count = proto.Dims.Aggregate(1L, (a, b) => a * b);
            return tensor(FloatValues(proto, count, $"initialiser '{input}' of node {Describe(node)}"), proto.Dims.ToArray());
        }
    }
}
