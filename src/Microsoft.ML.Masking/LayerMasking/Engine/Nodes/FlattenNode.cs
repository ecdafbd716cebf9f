using static TorchSharp.torch;

namespace Microsoft.ML.Masking.LayerMasking.Engine.Nodes;

/// <summary>Flatten. Flattening a spatial map hands its zero-masked values to what follows.</summary>
internal sealed class FlattenNode(string path, long startDim, long endDim) : GraphNode(path)
{
    public override Tensor Plain(Tensor x) => x.flatten(startDim, endDim);

    public override MaskedActivation Reference(MaskedActivation input, MaskAlgebra masks) =>
        new(Plain(input.Mask is null ? input.Values : input.Values * input.Mask.Tensor), null, clean: true);

    public override MaskedActivation Fast(MaskedActivation input, MaskAlgebra masks, bool inputShared) =>
        new(Plain(input.CleanValues(masks.InPlace)), null, clean: true);
}
