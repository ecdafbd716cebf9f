using Microsoft.ML.Masking.Core;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Masking.LayerMasking.Engine.Nodes;

/// <summary>
/// A Conv2d, optionally followed by the BatchNorm2d that consumes it. Layer masking: neighbour-pad the input,
/// convolve, keep the outputs whose window saw a kept input (max-pool of the mask with the convolution's
/// kernel, stride, padding and dilation), then BatchNorm on the masked values.
/// </summary>
internal sealed class ConvolutionNode : GraphNode
{
    private readonly Conv2d _conv;
    private readonly BatchNorm2d? _norm;
    private readonly bool _fold;
    private readonly long[] _kernel, _stride, _padding, _dilation;
    private readonly object _foldLock = new();
    private FoldedWeights? _folded;

    public ConvolutionNode(string path, Conv2d conv, BatchNorm2d? norm, bool foldBatchNorm) : base(path)
    {
        _conv = conv;
        _norm = norm;
        _fold = foldBatchNorm && norm is not null;
        _kernel = conv.kernel_size;
        _stride = conv.stride;
        _dilation = conv.dilation;
        _padding = conv.padding_type switch
        {
            TorchSharp.Padding.Valid => [0, 0],
            TorchSharp.Padding.Same => [(_kernel[0] - 1) * _dilation[0] / 2, (_kernel[1] - 1) * _dilation[1] / 2],
            _ => conv.padding ?? throw new NotSupportedException($"{path}: the convolution has neither padding sizes nor a padding mode."),
        };
        int kernelWidth = (int)Math.Max(_kernel[0], _kernel[1]);
        ReferenceIterations = kernelWidth > 1 ? kernelWidth : 0;
        // A kept output's window reaches at most (k−1)·d pixels from a kept input it contains, so fills
        // further out are never read: min(k, (k−1)·d) iterations give exactly the reference's outputs.
        long reach = Math.Max((_kernel[0] - 1) * _dilation[0], (_kernel[1] - 1) * _dilation[1]);
        FastIterations = (int)Math.Min(ReferenceIterations, reach);
    }

    /// <summary>Neighbour-padding iterations of the reference: the kernel width (1×1 convolutions pad nothing).</summary>
    public int ReferenceIterations { get; }

    /// <summary>Iterations the fast path needs for identical kept outputs.</summary>
    public int FastIterations { get; }

    /// <summary>True once the folded weights have been derived (the first inference pass that uses them).</summary>
    public bool HasFoldedWeights => Volatile.Read(ref _folded) is not null;

    /// <summary>Disposes the folded weights (the module's own parameters are untouched); the next use derives them again.</summary>
    public void ReleaseDerived()
    {
        lock (_foldLock)
        {
            _folded?.Dispose();
            Volatile.Write(ref _folded, null);
        }
    }

    /// <summary>Drops the folded weights; they are derived from the current parameters when next needed.</summary>
    public override void Refresh() => ReleaseDerived();

    /// <summary>The BatchNorm folded into the convolution, derived on first use: only layer masking's inference path reads it.</summary>
    private FoldedWeights Folded()
    {
        var folded = Volatile.Read(ref _folded);
        if (folded is not null) return folded;
        lock (_foldLock)
        {
            if (_folded is not null) return _folded;
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            var n = _norm!;
            var scale = n.weight!.div(n.running_var!.Plus(n.eps).sqrt_());
            var weight = _conv.weight!.mul(scale.view(-1, 1, 1, 1));
            var bias = (_conv.bias is null ? n.running_mean!.neg() : _conv.bias.sub(n.running_mean!)).mul_(scale).PlusInPlace(n.bias!);
            folded = new FoldedWeights(ChannelsLast.Of(weight).DetachFromDisposeScope(), bias.DetachFromDisposeScope());
            Volatile.Write(ref _folded, folded);
            return folded;
        }
    }

    private sealed class FoldedWeights(Tensor weight, Tensor bias) : IDisposable
    {
        public Tensor Weight { get; } = weight;
        public Tensor Bias { get; } = bias;

        public void Dispose()
        {
            Weight.Dispose();
            Bias.Dispose();
        }
    }

    private Tensor Convolve(Tensor x) => F.conv2d(x, _conv.weight!, _conv.bias, _stride, _padding, _dilation, _conv.groups);

    private Tensor BatchNormalize(Tensor x) =>
        F.batch_norm(x, _norm!.running_mean!, _norm.running_var!, _norm.weight, _norm.bias, training: false, momentum: 0, eps: _norm.eps);

    public override Tensor Plain(Tensor x)
    {
        var y = Convolve(x);
        return _norm is null ? y : BatchNormalize(y);
    }

    public override MaskedActivation Reference(MaskedActivation input, MaskAlgebra masks)
    {
        var keep = input.Mask!.Tensor;
        var padded = NeighbourPadding.Pad(input.Values, keep, ReferenceIterations);
        var outMask = MaskAlgebra.MaxPoolMask(keep, _kernel, _stride, _padding, _dilation);
        var y = Convolve(padded) * outMask;
        if (_norm is not null)
            y = BatchNormalize(y * outMask) * outMask;
        return new MaskedActivation(y, masks.Adopt(outMask), clean: true);
    }

    public override MaskedActivation Fast(MaskedActivation input, MaskAlgebra masks, bool inputShared)
    {
        var mask = input.Mask!;
        bool readsNeighbours = _kernel[0] > 1 || _kernel[1] > 1;
        var x = readsNeighbours ? input.CleanValues(masks.InPlace) : input.Values;
        if (FastIterations > 0 && !mask.AllKept)
        {
            if (masks.InPlace && FrontierFill.Supports(x))
            {
                // Inference on the CPU: each removed position within reach is filled once, in order of distance (the
                // same values as the recurrence below). Written in place unless another node reads this input.
                var fill = masks.Fill(mask, FastIterations);
                if (fill.FilledPositions > 0)
                {
                    if (inputShared) x = x.clone();
                    fill.Apply(x);
                }
            }
            else
            {
                var coefficients = masks.PaddingCoefficients(mask, FastIterations);
                // First step out of place (the input may be a residual identity), the rest in place unless autograd records:
                // avg_pool2d saves its input for the backward pass, so overwriting it would break backward.
                x = x.addcmul(BoxSums.Box3x3(x), coefficients[0], ScalarMath.One);
                for (int t = 1; t < coefficients.Length; t++)
                    x = masks.InPlace
                        ? x.addcmul_(BoxSums.Box3x3(x), coefficients[t], ScalarMath.One)
                        : x.addcmul(BoxSums.Box3x3(x), coefficients[t], ScalarMath.One);
            }
        }
        Tensor y;
        if (_fold && masks.InPlace)
        {
            var folded = Folded();
            y = F.conv2d(x, folded.Weight, folded.Bias, _stride, _padding, _dilation, _conv.groups);
        }
        else
        {
            // The module's own parameters, so gradients reach them. Inference switches to channels-last here as the folded
            // path does; autograd stays in the caller's layout: libtorch 2.10's CPU backward through a channels-last
            // ResNet crashed the process ("double free or corruption") in our tests, even for the plain module.
            y = Convolve(x);
            if (masks.InPlace) y = ChannelsLast.Of(y);
            if (_norm is not null) y = BatchNormalize(y);
        }
        return new MaskedActivation(y, masks.Pool(mask, _kernel, _stride, _padding, _dilation), clean: false);
    }
}
