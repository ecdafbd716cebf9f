using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.LayerMasking.Engine.Nodes;

/// <summary>A Linear layer on a flat feature vector.</summary>
internal sealed class LinearNode(string path, Linear linear) : GraphNode(path)
{
    public override Tensor Plain(Tensor x) => nn.functional.linear(x, linear.weight!, linear.bias);

    public override MaskedActivation Reference(MaskedActivation input, MaskAlgebra masks) => new(Plain(input.Values), null, clean: true);

    public override MaskedActivation Fast(MaskedActivation input, MaskAlgebra masks, bool inputShared) =>
        new(Plain(input.Values), null, clean: true);
}
