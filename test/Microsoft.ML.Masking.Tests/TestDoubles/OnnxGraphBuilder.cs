using Google.Protobuf;
using Onnx;

namespace Microsoft.ML.Masking.Tests.TestDoubles;

/// <summary>
/// Writes small ONNX models for the importer's tests with the parser package's own types (no exporter is available
/// to .NET): nodes in order, random float initialisers from a seeded generator, one image input and one output.
/// Each method adds a node and returns its output's name.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    private readonly GraphProto _graph = new() { Name = "test" };
    private readonly Random _random;
    private readonly long _opset;
    private int _count;

    /// <param name="channels">Image channels.</param>
    /// <param name="side">Image height and width.</param>
    /// <param name="seed">Seed of the random weights.</param>
    /// <param name="opset">The default-domain opset written.</param>
    /// <param name="input">The image input's name.</param>
    /// <param name="freeSize">Write height and width as symbolic dimensions (the importer then needs the image shape).</param>
    public OnnxGraphBuilder(int channels, int side, int seed, long opset = 14, string input = "image", bool freeSize = false)
    {
        _random = new Random(seed);
        _opset = opset;
        Input = input;
        _graph.Input.Add(Value(input, freeSize ? ["N", channels, "H", "W"] : ["N", channels, side, side]));
    }

    /// <summary>The image input's name.</summary>
    public string Input { get; }

    private static ValueInfoProto Value(string name, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is string s ? new TensorShapeProto.Types.Dimension { DimParam = s } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d) });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    private string Fresh(string op) => $"{op.ToLowerInvariant()}{_count++}";

    /// <summary>A float initialiser with values uniform in [lo, hi].</summary>
    public string Constant(long[] dims, double lo = -0.5, double hi = 0.5, string? name = null)
    {
        name ??= Fresh("w");
        long count = dims.Aggregate(1L, (a, b) => a * b);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        var values = Enumerable.Range(0, (int)count).Select(_ => (float)(lo + (hi - lo) * _random.NextDouble())).ToArray();
        t.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        _graph.Initializer.Add(t);
        return name;
    }

    /// <summary>An int64 initialiser.</summary>
    public string Int64s(params long[] values)
    {
        var t = new TensorProto { Name = Fresh("shape"), DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.Add(values.Length);
        t.Int64Data.AddRange(values);
        _graph.Initializer.Add(t);
        return t.Name;
    }

    /// <summary>A scalar float initialiser.</summary>
    public string Scalar(float value)
    {
        var t = new TensorProto { Name = Fresh("c"), DataType = (int)TensorProto.Types.DataType.Float };
        t.FloatData.Add(value);
        _graph.Initializer.Add(t);
        return t.Name;
    }

    /// <summary>Adds a node; attributes are ints (long), floats (float/double), int lists (long[]) or strings.</summary>
    public string Node(string op, string[] inputs, params (string Name, object Value)[] attributes)
    {
        var output = Fresh(op);
        var node = new NodeProto { OpType = op, Name = output + "_node" };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        foreach (var (name, value) in attributes)
        {
            var a = new AttributeProto { Name = name };
            switch (value)
            {
                case long l: a.Type = AttributeProto.Types.AttributeType.Int; a.I = l; break;
                case int i: a.Type = AttributeProto.Types.AttributeType.Int; a.I = i; break;
                case float f: a.Type = AttributeProto.Types.AttributeType.Float; a.F = f; break;
                case double d: a.Type = AttributeProto.Types.AttributeType.Float; a.F = (float)d; break;
                case long[] ls: a.Type = AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(ls); break;
                case string s: a.Type = AttributeProto.Types.AttributeType.String; a.S = ByteString.CopyFromUtf8(s); break;
                default: throw new ArgumentException($"attribute {name}: {value.GetType()}");
            }
            node.Attribute.Add(a);
        }
        _graph.Node.Add(node);
        return output;
    }

    /// <summary>The name of the node that made <paramref name="output"/>.</summary>
    public static string NodeName(string output) => output + "_node";

    /// <summary>Conv with a random weight (and bias), kernel k, symmetric padding p.</summary>
    public string Conv(string x, long inChannels, long outChannels, long k, long stride = 1, long pad = 0, long group = 1, long dilation = 1, bool bias = true)
    {
        double bound = 1.5 / Math.Sqrt(inChannels / group * k * k);
        var inputs = new List<string> { x, Constant([outChannels, inChannels / group, k, k], -bound, bound) };
        if (bias) inputs.Add(Constant([outChannels], -0.1, 0.1));
        return Node("Conv", inputs.ToArray(), ("kernel_shape", new[] { k, k }), ("strides", new[] { stride, stride }),
            ("pads", new[] { pad, pad, pad, pad }), ("group", group), ("dilations", new[] { dilation, dilation }));
    }

    /// <summary>BatchNormalization with random statistics.</summary>
    public string BatchNorm(string x, long channels) =>
        Node("BatchNormalization", [x, Constant([channels], 0.5, 1.5), Constant([channels], -0.2, 0.2), Constant([channels], -0.2, 0.2), Constant([channels], 0.3, 1.5)],
            ("epsilon", 1e-5f));

    /// <summary>Gemm with a random weight [out, in] (transB = 1) and bias.</summary>
    public string Gemm(string x, long inFeatures, long outFeatures) =>
        Node("Gemm", [x, Constant([outFeatures, inFeatures], -1 / Math.Sqrt(inFeatures), 1 / Math.Sqrt(inFeatures)), Constant([outFeatures], -0.1, 0.1)], ("transB", 1L));

    /// <summary>Sets the output and writes the model to <paramref name="path"/>.</summary>
    public string Save(string output, string path)
    {
        var model = Build(output);
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    /// <summary>The model with <paramref name="output"/> as its output.</summary>
    public ModelProto Build(string output)
    {
        _graph.Output.Clear();
        _graph.Output.Add(new ValueInfoProto { Name = output, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } } });
        var model = new ModelProto { IrVersion = 7, ProducerName = "Microsoft.ML.Masking.Tests", Graph = _graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = _opset });
        return model;
    }
}
