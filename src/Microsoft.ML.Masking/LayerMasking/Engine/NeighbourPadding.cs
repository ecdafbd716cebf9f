using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Masking.LayerMasking.Engine;

/// <summary>
/// Neighbour padding (the paper's "fast FMM"): each iteration gives every removed position that touches a
/// kept one the mean of its kept 3×3 neighbours, then counts it as kept. k iterations fill a border of k
/// pixels around the kept region; positions further away stay zero. The fill is differentiable (every
/// step is out of place), so gradients reach the kept values it averages; removed inputs get zero gradient.
/// </summary>
internal static class NeighbourPadding
{
    /// <summary>3×3 box sum per channel with zero "same" padding (an average pool that divides by 1).</summary>
    public static Tensor BoxSum(Tensor x) =>
        F.avg_pool2d(x, [3, 3], [1, 1], [1, 1], ceil_mode: false, count_include_pad: true, divisor_override: 1);

    /// <summary>
    /// The reference recurrence, step by step: x ← x⊙m; repeat: num = boxsum(x), den = boxsum(m),
    /// x ← x + (1−m)⊙num/(den+ε), m ← clamp(m+den, 0, 1).
    /// </summary>
    /// <param name="values">[batch, channels, height, width].</param>
    /// <param name="keep">[batch, 1, height, width], 1 = kept.</param>
    /// <param name="iterations">Border width to fill.</param>
    public static Tensor Pad(Tensor values, Tensor keep, int iterations)
    {
        using var scope = NewDisposeScope();
        var x = values * keep;
        var m = keep;
        for (int i = 0; i < iterations; i++)
        {
            var num = BoxSum(x);
            var den = BoxSum(m);
            x = x.Plus(Removed(m) * (num / den.Plus(MaskAlgebra.PaddingEpsilon)));
            m = m.Plus(den).ClampToUnitInPlace();
        }
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>1 − m: the removed positions of a keep-mask.</summary>
    internal static Tensor Removed(Tensor m) => m.OneMinus();

    /// <summary>
    /// Fills every removed position, growing inwards from the kept region until nothing is left (at most
    /// max(height, width) iterations). Used as an input-only baseline. With nothing kept, returns zeros.
    /// </summary>
    public static Tensor FillAll(Tensor values, Tensor keep)
    {
        using var scope = NewDisposeScope();
        var x = values * keep;
        var m = keep;
        long limit = Math.Max(values.shape[2], values.shape[3]);
        for (long i = 0; i < limit; i++)
        {
            // Stop once each image is either complete or has nothing to grow from.
            var perImage = m.amax([1, 2, 3]).mul(Removed(m.amin([1, 2, 3])));
            if (perImage.sum().item<float>() == 0) break;
            var num = BoxSum(x);
            var den = BoxSum(m);
            x = x.Plus(Removed(m) * (num / den.Plus(MaskAlgebra.PaddingEpsilon)));
            m = m.Plus(den).ClampToUnitInPlace();
        }
        return x.MoveToOuterDisposeScope();
    }
}
