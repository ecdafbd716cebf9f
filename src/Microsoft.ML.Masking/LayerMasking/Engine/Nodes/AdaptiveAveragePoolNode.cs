using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Masking.LayerMasking.Engine.Nodes;

/// <summary>
/// AdaptiveAvgPool2d to an output larger than 1×1 (VGG's 7×7, AlexNet's 6×6) as a masked mean per bin, the
/// reference's rule: pool(x⊙m)/(pool(m) + ε), both with the module's bins, so the bin sizes cancel. A bin with no
/// kept input is zero, and the output mask keeps the bins that hold a kept input (an adaptive max-pool of the mask).
/// The 1×1 case is <see cref="GlobalAveragePoolNode"/>.
/// </summary>
internal sealed class AdaptiveAveragePoolNode(string path, long[] outputSize) : GraphNode(path)
{
    public override Tensor Plain(Tensor x) => F.adaptive_avg_pool2d(x, outputSize);

    private Tensor MaskedMean(Tensor cleanValues, Tensor keep) =>
        Plain(cleanValues).div_(Plain(keep).PlusInPlace(GlobalAveragePoolNode.Epsilon));

    private Tensor PooledMask(Tensor keep) => F.adaptive_max_pool2d(keep, outputSize);

    public override MaskedActivation Reference(MaskedActivation input, MaskAlgebra masks)
    {
        var m = input.Mask!.Tensor;
        var pooledMask = PooledMask(m);
        return new MaskedActivation(MaskedMean(input.Values * m, m) * pooledMask, masks.Adopt(pooledMask), clean: true);
    }

    public override MaskedActivation Fast(MaskedActivation input, MaskAlgebra masks, bool inputShared)
    {
        var mask = input.Mask!;
        var pooled = masks.Derive(mask, $"adaptive{string.Join('x', outputSize)}", PooledMask);
        if (mask.AllKept) return new MaskedActivation(Plain(input.Values), pooled, clean: true);
        return new MaskedActivation(MaskedMean(input.CleanValues(masks.InPlace), mask.Tensor), pooled, clean: true);
    }
}
