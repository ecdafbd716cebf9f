using Microsoft.ML.Masking.Core;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Masking.LayerMasking.Engine.Nodes;

/// <summary>
/// AvgPool2d as a masked mean: each window averages its kept positions only, sum(x⊙m)/(count + ε), where count is
/// the window's kept positions plus, when the module counts padding (<c>count_include_pad</c>, PyTorch's default),
/// its padding positions, so an all-ones mask gives exactly the module's average. The output mask keeps a window
/// holding any kept input; a window with none is zero.
/// </summary>
/// <remarks>The reference implementation (<c>MyAvgPool2d</c>) averages the zero-masked input over the whole window,
/// so removed positions pull a border window's mean towards zero: the missingness bias layer masking sets out to
/// remove. A masked mean does not depend on what was removed, and agrees with the reference's adaptive average pool
/// (<c>MyAdaptiveAvgPool2d</c>), which divides by the pooled mask.</remarks>
internal sealed class AveragePoolNode : GraphNode
{
    /// <summary>Keeps an empty window from dividing by zero, as the reference's adaptive pool does.</summary>
    public const double Epsilon = 1e-8;

    private readonly long[] _kernel, _stride, _padding;
    private readonly bool _countIncludePad;
    private static readonly long[] NoDilation = [1, 1];

    public AveragePoolNode(string path, AvgPool2d pool)
        : this(path, pool.kernel_size, pool.stride ?? pool.kernel_size, pool.padding ?? [0, 0], pool.count_include_pad)
    {
        if (pool.ceil_mode)
            throw new NotSupportedException($"Layer masking does not support AvgPool2d with ceil_mode (module '{path}').");
        if (pool.divisor_override is not null)
            throw new NotSupportedException($"Layer masking does not support AvgPool2d with divisor_override: the result is not a mean, so it has no masked form (module '{path}').");
    }

    /// <summary>An average pool given by its window (an imported ONNX AveragePool), floor rounding of the output size.</summary>
    public AveragePoolNode(string path, long[] kernel, long[] stride, long[] padding, bool countIncludePad) : base(path)
    {
        _kernel = kernel;
        _stride = stride;
        _padding = padding;
        _countIncludePad = countIncludePad;
    }

    public override Tensor Plain(Tensor x) => F.avg_pool2d(x, _kernel, _stride, _padding, ceil_mode: false, count_include_pad: _countIncludePad);

    private Tensor WindowSums(Tensor x) => F.avg_pool2d(x, _kernel, _stride, _padding, ceil_mode: false, count_include_pad: true, divisor_override: 1);

    /// <summary>Kept positions per window, plus padding ones when the module counts them.</summary>
    private Tensor Counts(Tensor keep)
    {
        if (!_countIncludePad || _padding.All(p => p == 0)) return WindowSums(keep);
        using var padded = F.pad(keep, [_padding[1], _padding[1], _padding[0], _padding[0]], value: 1);
        return F.avg_pool2d(padded, _kernel, _stride, [0, 0], ceil_mode: false, count_include_pad: true, divisor_override: 1);
    }

    private Tensor MaskedMean(Tensor cleanValues, Tensor keep) => WindowSums(cleanValues).div_(Counts(keep).PlusInPlace(Epsilon));

    public override MaskedActivation Reference(MaskedActivation input, MaskAlgebra masks)
    {
        var m = input.Mask!.Tensor;
        var pooledMask = MaskAlgebra.MaxPoolMask(m, _kernel, _stride, _padding, NoDilation);
        return new MaskedActivation(MaskedMean(input.Values * m, m) * pooledMask, masks.Adopt(pooledMask), clean: true);
    }

    public override MaskedActivation Fast(MaskedActivation input, MaskAlgebra masks, bool inputShared)
    {
        var mask = input.Mask!;
        var pooled = masks.Pool(mask, _kernel, _stride, _padding, NoDilation);
        // Nothing removed: the module's own average (equal to the masked mean, one pass fewer).
        if (mask.AllKept) return new MaskedActivation(Plain(input.Values), pooled, clean: true);
        // A window without kept inputs sums zeros, so the mean is already zero where the pooled mask is.
        return new MaskedActivation(MaskedMean(input.CleanValues(masks.InPlace), mask.Tensor), pooled, clean: true);
    }
}
