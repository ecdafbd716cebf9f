namespace Microsoft.ML.Masking.Models.Onnx;

/// <summary>
/// One layer of an imported ONNX graph as <see cref="OnnxNetwork"/> builds and runs it: the ONNX node it came from,
/// what it computes and the settings it needs. Weights live in the network's modules, not here, so the list is small
/// and is what model.zip stores to rebuild the network before loading its weights.
/// </summary>
/// <param name="Name">The ONNX node's name (or <c>OpType#index</c> when it has none), for messages.</param>
/// <param name="OpType">The ONNX op type it was read from (the last one when several nodes make one layer, e.g. MatMul + Add).</param>
/// <param name="Kind">What the layer computes.</param>
/// <param name="Inputs">The layers whose outputs it reads, by index; −1 is the network's input.</param>
/// <param name="Kernel">Window of a convolution or pool (height, width).</param>
/// <param name="Stride">Stride of a convolution or pool.</param>
/// <param name="Padding">Symmetric zero padding of a convolution or pool (height, width).</param>
/// <param name="Dilation">Dilation of a convolution or max-pool.</param>
/// <param name="Groups">Groups of a convolution (its input channels for a depthwise one).</param>
/// <param name="InChannels">Input channels (convolution, BatchNorm) or features (Linear).</param>
/// <param name="OutChannels">Output channels (convolution) or features (Linear).</param>
/// <param name="Bias">Whether a convolution or Linear layer adds a bias.</param>
/// <param name="Epsilon">BatchNorm's epsilon.</param>
/// <param name="Activation">The activation's name: Relu, Sigmoid, Tanh, HardSigmoid (<paramref name="Alpha"/>·x + <paramref name="Beta"/>
/// clamped to [0, 1]), HardSwish, Clip (to [<paramref name="Alpha"/>, <paramref name="Beta"/>]), SiLU (x·sigmoid(x)) or
/// GatedHardSigmoid (x·HardSigmoid(x)).</param>
/// <param name="Alpha">First constant of the activation.</param>
/// <param name="Beta">Second constant of the activation.</param>
/// <param name="CountIncludePad">Whether an average pool counts padding positions in its divisor.</param>
internal sealed record OnnxLayer(
    string Name, string OpType, OnnxLayerKind Kind, int[] Inputs,
    long[]? Kernel = null, long[]? Stride = null, long[]? Padding = null, long[]? Dilation = null, long Groups = 1,
    long InChannels = 0, long OutChannels = 0, bool Bias = false, double Epsilon = 0,
    string? Activation = null, double Alpha = 0, double Beta = 0, bool CountIncludePad = false)
{
    /// <summary>"'name' (OpType)", how messages name the node.</summary>
    public string Describe() => $"ONNX node '{Name}' ({OpType})";
}
