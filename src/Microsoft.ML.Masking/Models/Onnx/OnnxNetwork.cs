using Microsoft.ML.Masking.LayerMasking.Engine;
using Microsoft.ML.Masking.LayerMasking.Engine.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Models.Onnx;

/// <summary>
/// A CNN read from an ONNX file (<c>ImageClassifier.FromOnnx</c>): its convolutions, BatchNorms and Linear
/// layers are TorchSharp modules holding the file's initialisers (state-dict names <c>layer{i}.weight</c>, …), and its
/// forward pass runs the file's graph through the same layer graph layer masking runs, so the plain pass and the
/// layer-masked pass are one description of the network.
/// </summary>
/// <remarks>Evaluation mode only: BatchNorm uses its running statistics and Dropout is the identity, as at ONNX inference.</remarks>
public sealed class OnnxNetwork : nn.Module<Tensor, Tensor>
{
    private readonly Dictionary<int, nn.Module> _modules = new();
    private readonly Lazy<ChainNode> _plain;

    internal OnnxNetwork(OnnxLayerGraph graph) : base(nameof(OnnxNetwork))
    {
        Graph = graph;
        for (int i = 0; i < graph.Layers.Length; i++)
        {
            var l = graph.Layers[i];
            nn.Module? module = l.Kind switch
            {
                OnnxLayerKind.Convolution => nn.Conv2d(l.InChannels, l.OutChannels, (l.Kernel![0], l.Kernel[1]),
                    stride: (l.Stride![0], l.Stride[1]), padding: (l.Padding![0], l.Padding[1]), dilation: (l.Dilation![0], l.Dilation[1]),
                    groups: l.Groups, bias: l.Bias),
                OnnxLayerKind.BatchNorm => nn.BatchNorm2d(l.InChannels, eps: l.Epsilon),
                OnnxLayerKind.Linear => nn.Linear(l.InChannels, l.OutChannels, hasBias: l.Bias),
                _ => null,
            };
            if (module is null) continue;
            register_module(ModuleName(i), module);
            _modules[i] = module;
        }
        eval();
        // The plain pass never folds BatchNorm: it is the network's own computation.
        _plain = new Lazy<ChainNode>(() => NetworkGraph.Compile(this, foldBatchNorm: false), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The layers read from the file, without weights (what model.zip stores to rebuild the network).</summary>
    internal OnnxLayerGraph Graph { get; }

    /// <summary>The ONNX file's name.</summary>
    public string Source => Graph.Source;

    /// <summary>Values per image of the output: class scores when the file ends in a Gemm (or MatMul + Add), otherwise its features.</summary>
    public int OutputSize => Graph.OutputSize;

    /// <summary>The module holding layer <paramref name="index"/>'s weights (a Conv2d, BatchNorm2d or Linear).</summary>
    internal T Module<T>(int index) where T : nn.Module =>
        _modules.TryGetValue(index, out var m) && m is T t ? t
        : throw new InvalidOperationException($"Layer {index} ('{Graph.Layers[index].Name}') holds no {typeof(T).Name}.");

    internal static string ModuleName(int index) => $"layer{index}";

    /// <summary>
    /// Reads <paramref name="onnxPath"/>, builds the network with the file's weights, compiles its layer-masking graph
    /// (so an op or pattern the engine cannot mask fails here, named) and compares its plain output with ONNX Runtime's
    /// on a probe input.
    /// </summary>
    /// <param name="onnxPath">The ONNX file.</param>
    /// <param name="imageShape">The image the network takes; null to read it from the file's input.</param>
    /// <param name="tolerance">Largest accepted difference to ONNX Runtime, relative to the output's scale.</param>
    /// <returns>The network and its measured difference to ONNX Runtime.</returns>
    /// <exception cref="NotSupportedException">The file holds an op, pattern or setting the engine cannot mask (named), or the
    /// imported network disagrees with ONNX Runtime by more than <paramref name="tolerance"/>.</exception>
    internal static (OnnxNetwork Network, double VsOnnxRuntime) Import(string onnxPath, Data.ImageShape? imageShape, double tolerance)
    {
        ArgumentException.ThrowIfNullOrEmpty(onnxPath);
        if (!File.Exists(onnxPath))
            throw new FileNotFoundException($"ONNX file '{onnxPath}' does not exist.", onnxPath);
        var bytes = File.ReadAllBytes(onnxPath);
        var result = OnnxGraphImporter.Import(global::Onnx.ModelProto.Parser.ParseFrom(bytes), Path.GetFileName(onnxPath), imageShape);
        var network = Create(result);
        try
        {
            LayerMaskedNetwork.Create(network).Dispose();
            int batch = result.FixedBatchSize > 0 ? result.FixedBatchSize : 2;
            double difference = OnnxRuntimeComparison.MaxRelativeDifference(bytes, result.InputName, result.OutputName, network, result.Graph.Input, batch);
            if (!(difference <= tolerance))
                throw new NotSupportedException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"The network imported from '{result.Graph.Source}' differs from ONNX Runtime's output by {difference:G3} of the output's scale on a probe input (tolerance {tolerance:G3}); it is not used."));
            return (network, difference);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// This network (a backbone whose output is its features) with a Linear layer on the features, logits =
    /// features · weightsᵀ + biases; the layers and weights are copied, so this network is left as it is.
    /// </summary>
    /// <param name="weights">[classes, <see cref="OutputSize"/>] row-major.</param>
    /// <param name="biases">One per class.</param>
    internal OnnxNetwork WithLinearHead(float[] weights, float[] biases)
    {
        if (Graph.EndsInLinear)
            throw new InvalidOperationException("The network already ends in a Linear layer.");
        var layers = Graph.Layers.ToList();
        int features = OutputSize, classes = biases.Length;
        if (Graph.Layers[^1].Kind != OnnxLayerKind.Flatten)
            layers.Add(new OnnxLayer("head.flatten", "Flatten", OnnxLayerKind.Flatten, [layers.Count - 1]));
        layers.Add(new OnnxLayer("head", "Gemm", OnnxLayerKind.Linear, [layers.Count - 1], InChannels: features, OutChannels: classes, Bias: true));
        var network = new OnnxNetwork(Graph with { Layers = layers.ToArray(), OutputSize = classes });
        using (no_grad())
        {
            var source = state_dict();
            var head = ModuleName(layers.Count - 1) + ".";
            foreach (var (name, parameter) in network.state_dict())
            {
                if (!name.StartsWith(head, StringComparison.Ordinal))
                {
                    parameter.copy_(source[name]);
                    continue;
                }
                using var value = name.EndsWith(".weight", StringComparison.Ordinal) ? tensor(weights, [classes, features]) : tensor(biases);
                parameter.copy_(value);
            }
        }
        return network;
    }

    /// <summary>The network of <paramref name="result"/> with its weights loaded (every weight used, every parameter given).</summary>
    internal static OnnxNetwork Create(OnnxGraphImporter.Result result)
    {
        var network = new OnnxNetwork(result.Graph);
        using (no_grad())
        {
            var used = 0;
            foreach (var (name, parameter) in network.state_dict())
            {
                if (name.EndsWith("num_batches_tracked", StringComparison.Ordinal))
                    continue;
                if (!result.Weights.TryGetValue(name, out var weight))
                    throw new InvalidOperationException($"The ONNX import gave no value for parameter '{name}'.");
                if (!weight.Shape.SequenceEqual(parameter.shape))
                    throw new InvalidOperationException(
                        $"Parameter '{name}' has shape [{string.Join(", ", parameter.shape)}] but the ONNX import gives [{string.Join(", ", weight.Shape)}].");
                using var value = tensor(weight.Values, weight.Shape);
                parameter.copy_(value);
                used++;
            }
            if (used != result.Weights.Count)
                throw new InvalidOperationException($"The ONNX import gave {result.Weights.Count} weights for {used} parameters.");
        }
        return network;
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => _plain.Value.Plain(input);
}
