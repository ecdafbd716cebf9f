using static TorchSharp.torch;

namespace Microsoft.ML.Masking.LayerMasking.Engine.Nodes;

/// <summary>ReLU: relu(x⊙m)⊙m. ReLU keeps zeros zero, so it keeps a clean activation clean.</summary>
internal sealed class ReluNode(string path) : GraphNode(path)
{
    public override Tensor Plain(Tensor x) => nn.functional.relu(x);

    public override MaskedActivation Reference(MaskedActivation input, MaskAlgebra masks)
    {
        if (input.Mask is null) return new MaskedActivation(Plain(input.Values), null, clean: true);
        var m = input.Mask.Tensor;
        return new MaskedActivation(Plain(input.Values * m) * m, input.Mask, clean: true);
    }

    public override MaskedActivation Fast(MaskedActivation input, MaskAlgebra masks, bool inputShared) =>
        new(inputShared || !masks.InPlace ? input.Values.relu() : input.Values.relu_(), input.Mask, input.Clean);
}
