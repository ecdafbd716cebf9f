using static TorchSharp.torch;

namespace Microsoft.ML.Masking.LayerMasking.Engine.Nodes;

/// <summary>Identity, and Dropout at inference: values and mask pass unchanged.</summary>
internal sealed class PassThroughNode(string path) : GraphNode(path)
{
    public override Tensor Plain(Tensor x) => x;

    public override MaskedActivation Reference(MaskedActivation input, MaskAlgebra masks) => input;

    public override MaskedActivation Fast(MaskedActivation input, MaskAlgebra masks, bool inputShared) => input;
}
