using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Masking.LayerMasking.Engine.Nodes;

/// <summary>
/// MaxPool2d: pool the zero-masked input and max-pool the mask. A window with no kept input pools only zeros,
/// so the result is already zero wherever the pooled mask is zero.
/// </summary>
internal sealed class MaxPoolNode : GraphNode
{
    private readonly long[] _kernel, _stride, _padding, _dilation;
    private readonly bool _ceilMode;

    public MaxPoolNode(string path, MaxPool2d pool) : base(path)
    {
        _kernel = pool.kernel_size;
        _stride = pool.stride ?? pool.kernel_size;
        _padding = pool.padding ?? [0, 0];
        _dilation = pool.dilation ?? [1, 1];
        _ceilMode = pool.ceil_mode;
        if (_ceilMode)
            throw new NotSupportedException($"Layer masking does not support MaxPool2d with ceil_mode (module '{path}').");
    }

    public override Tensor Plain(Tensor x) => F.max_pool2d(x, _kernel, _stride, _padding, _dilation, _ceilMode);

    public override MaskedActivation Reference(MaskedActivation input, MaskAlgebra masks)
    {
        var m = input.Mask!.Tensor;
        var pooledMask = MaskAlgebra.MaxPoolMask(m, _kernel, _stride, _padding, _dilation);
        return new MaskedActivation(Plain(input.Values * m) * pooledMask, masks.Adopt(pooledMask), clean: true);
    }

    public override MaskedActivation Fast(MaskedActivation input, MaskAlgebra masks, bool inputShared) =>
        new(Plain(input.CleanValues(masks.InPlace)), masks.Pool(input.Mask!, _kernel, _stride, _padding, _dilation), clean: true);
}
