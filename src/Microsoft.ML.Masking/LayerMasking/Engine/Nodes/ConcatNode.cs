using static TorchSharp.torch;

namespace Microsoft.ML.Masking.LayerMasking.Engine.Nodes;

/// <summary>
/// Branches that read the same input, concatenated along channels (an Inception block, a DenseNet layer's
/// <c>cat([x, f(x)])</c>). Mask rule: a position is kept where every branch keeps it (the AND of their masks, as
/// for a residual sum), and the concatenation is zero elsewhere.
/// </summary>
/// <remarks>The reference's DenseNet keeps a position when a strict majority of the inputs keep it
/// (<c>sum(masks) &gt; n/2</c>). For two inputs that is the AND; for more, the majority would mark a position kept
/// whose channels from a removed branch are placeholders (zeros standing for nothing), which the next layer would
/// read as real. The AND never does, and like the majority it makes the output independent of removed pixels.</remarks>
internal sealed class ConcatNode(string path, IReadOnlyList<ChainNode> branches) : GraphNode(path)
{
    /// <summary>The branches, in channel order.</summary>
    public IReadOnlyList<ChainNode> Branches { get; } = branches;

    public override Tensor Plain(Tensor x) => cat(Branches.Select(b => b.Plain(x)).ToArray(), 1);

    public override MaskedActivation Reference(MaskedActivation input, MaskAlgebra masks)
    {
        var outputs = Branches.Select(b => b.Reference(input, masks)).ToList();
        var mask = outputs.Skip(1).Aggregate(outputs[0].Mask!.Tensor, (m, o) => m * o.Mask!.Tensor);
        var values = cat(outputs.Select(o => o.Values).ToArray(), 1) * mask;
        return new MaskedActivation(values, masks.Adopt(mask), clean: true);
    }

    public override MaskedActivation Fast(MaskedActivation input, MaskAlgebra masks, bool inputShared)
    {
        // Every branch reads the block input, so none may overwrite it.
        var outputs = Branches.Select(b => b.Fast(input, masks, inputShared: true)).ToList();
        var mask = outputs.Skip(1).Aggregate(outputs[0].Mask!, (m, o) => masks.And(m, o.Mask!));
        // Clean only if every branch is clean with respect to the combined mask, i.e. already had it.
        bool clean = outputs.All(o => o.Clean && o.Mask!.Id == mask.Id);
        return new MaskedActivation(cat(outputs.Select(o => o.Values).ToArray(), 1), mask, clean);
    }

    public override void Refresh()
    {
        foreach (var branch in Branches) branch.Refresh();
    }
}
