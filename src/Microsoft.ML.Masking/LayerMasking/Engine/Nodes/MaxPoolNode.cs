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

    public MaxPoolNode(string path, MaxPool2d pool)
        : this(path, pool.kernel_size, pool.stride ?? pool.kernel_size, pool.padding ?? [0, 0], pool.dilation ?? [1, 1])
    {
        if (pool.ceil_mode)
            throw new NotSupportedException($"Layer masking does not support MaxPool2d with ceil_mode (module '{path}').");
    }

    /// <summary>A max-pool given by its window (an imported ONNX MaxPool), floor rounding of the output size.</summary>
    public MaxPoolNode(string path, long[] kernel, long[] stride, long[] padding, long[] dilation) : base(path)
    {
        _kernel = kernel;
        _stride = stride;
        _padding = padding;
        _dilation = dilation;
    }

    public override Tensor Plain(Tensor x) => F.max_pool2d(x, _kernel, _stride, _padding, _dilation, ceil_mode: false);

    public override MaskedActivation Reference(MaskedActivation input, MaskAlgebra masks)
    {
        var m = input.Mask!.Tensor;
        var pooledMask = MaskAlgebra.MaxPoolMask(m, _kernel, _stride, _padding, _dilation);
        return new MaskedActivation(Plain(input.Values * m) * pooledMask, masks.Adopt(pooledMask), clean: true);
    }

    public override MaskedActivation Fast(MaskedActivation input, MaskAlgebra masks, bool inputShared) =>
        new(Plain(input.CleanValues(masks.InPlace)), masks.Pool(input.Mask!, _kernel, _stride, _padding, _dilation), clean: true);
}
