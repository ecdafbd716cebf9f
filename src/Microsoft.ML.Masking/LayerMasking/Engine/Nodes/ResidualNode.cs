using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.LayerMasking.Engine.Nodes;

/// <summary>
/// A residual block: main branch plus shortcut (identity or a downsampling branch), then ReLU (a ResNet block) or
/// nothing (an inverted residual, <paramref name="relu"/> false). The sum is kept only where both branches are:
/// mask = AND of the two masks, output = (main + shortcut)⊙mask.
/// </summary>
internal sealed class ResidualNode(string path, ChainNode main, ChainNode? shortcut, bool relu = true) : GraphNode(path)
{
    public override Tensor Plain(Tensor x)
    {
        var y = main.Plain(x).Plus(shortcut is null ? x : shortcut.Plain(x));
        return relu ? nn.functional.relu(y) : y;
    }

    public override MaskedActivation Reference(MaskedActivation input, MaskAlgebra masks)
    {
        var a = main.Reference(input, masks);
        var b = shortcut is null ? input : shortcut.Reference(input, masks);
        var mask = a.Mask!.Tensor * b.Mask!.Tensor;
        var sum = a.Values.Plus(b.Values) * mask;
        return new MaskedActivation(relu ? nn.functional.relu(sum * mask) * mask : sum, masks.Adopt(mask), clean: true);
    }

    public override MaskedActivation Fast(MaskedActivation input, MaskAlgebra masks, bool inputShared)
    {
        // Both branches read the block input, so neither may overwrite it.
        var a = main.Fast(input, masks, inputShared: true);
        var b = shortcut is null ? input : shortcut.Fast(input, masks, inputShared: true);
        // The main branch's last layer made a fresh tensor, so the sum can reuse it. Left dirty: the next
        // layer that reads neighbours (or the global pool) applies the AND mask.
        if (!masks.InPlace || ReferenceEquals(a.Values, input.Values))
        {
            var outOfPlace = a.Values.Plus(b.Values);
            return new MaskedActivation(relu ? outOfPlace.relu() : outOfPlace, masks.And(a.Mask!, b.Mask!), clean: false);
        }
        var sum = a.Values.PlusInPlace(b.Values);
        if (relu) sum = sum.relu_();
        return new MaskedActivation(sum, masks.And(a.Mask!, b.Mask!), clean: false);
    }

    /// <summary>The branches, for walking the graph.</summary>
    public IEnumerable<GraphNode> Children => shortcut is null ? [main] : [main, shortcut];

    public override void Refresh()
    {
        main.Refresh();
        shortcut?.Refresh();
    }
}
