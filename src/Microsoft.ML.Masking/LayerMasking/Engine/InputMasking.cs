using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Randomness;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Masking.LayerMasking.Engine;

/// <summary>
/// The baseline maskings: each replaces the removed pixels of a normalised image batch and lets the network run
/// as usual. All work in normalised space, so "grey" (the dataset mean) is 0 and "black" is −mean/std.
/// Gradients are the caller's choice (no <c>no_grad</c> inside): they flow through the fills to the pixels each
/// fill reads (the kept ones for mean colour, smoothed grey and neighbour padding; all of them for blur).
/// </summary>
internal static class InputMasking
{
    /// <summary>Applies <paramref name="method"/> (any but <see cref="MaskingMethod.LayerMasking"/>).</summary>
    /// <param name="method">The baseline.</param>
    /// <param name="images">[batch, channels, height, width], normalised.</param>
    /// <param name="keep">[batch, 1, height, width], 1 = kept.</param>
    /// <param name="black">Black (pixel value 0) after normalization, [1, channels, 1, 1].</param>
    /// <param name="blurSigma">σ in pixels of <see cref="MaskingMethod.Blur"/>.</param>
    /// <param name="generator">Random source of <see cref="MaskingMethod.Noise"/> when <paramref name="noise"/> is not given.</param>
    /// <param name="noise">The noise of <see cref="MaskingMethod.Noise"/>, already drawn (for example by <see cref="Core.Randomness.RowNoise"/>), shaped as <paramref name="images"/>.</param>
    public static Tensor Apply(MaskingMethod method, Tensor images, Tensor keep, Tensor black, double blurSigma, Generator? generator, Tensor? noise = null)
    {
        using var scope = NewDisposeScope();
        var removed = keep.AtMost(0);
        Tensor Fill(Tensor fill) => where(removed, fill, images);
        var result = method switch
        {
            MaskingMethod.Black => Fill(black.to(images.device).expand_as(images)),
            MaskingMethod.Grey => Fill(zeros_like(images)),
            MaskingMethod.GreySmoothed => Fill(GaussianBlur(where(removed, 0f, images), 1.0, 5)),
            MaskingMethod.MeanColor => Fill(KeptMean(images, keep).expand_as(images)),
            MaskingMethod.Blur => Fill(GaussianBlur(images, blurSigma, 2 * (int)Math.Ceiling(3 * blurSigma) + 1)),
            MaskingMethod.Noise => Fill(noise?.to(images.dtype, images.device) ?? randn(images.shape, dtype: images.dtype, device: images.device, generator: generator)),
            MaskingMethod.NeighbourPadding => NeighbourPadding.FillAll(images, keep),
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, "Layer masking is not an input masking; use LayerMaskedNetwork."),
        };
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Per-image, per-channel mean over kept pixels, [batch, channels, 1, 1]; 0 (the dataset mean) where nothing is kept.</summary>
    public static Tensor KeptMean(Tensor images, Tensor keep) =>
        (images * keep).sum([2, 3], keepdim: true) / keep.sum([2, 3], keepdim: true).ClampMin(1);

    /// <summary>
    /// Depthwise Gaussian blur with zero padding, renormalised by the blurred all-ones image so borders keep
    /// their brightness.
    /// </summary>
    public static Tensor GaussianBlur(Tensor images, double sigma, int size)
    {
        if (sigma <= 0) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "Blur σ must be positive.");
        using var scope = NewDisposeScope();
        long c = images.shape[1];
        var offsets = tensor(Enumerable.Range(0, size).Select(i => (float)(i - (size - 1) / 2.0)).ToArray(), device: images.device);
        var g1 = exp((offsets * offsets).neg().DividedBy(2 * sigma * sigma));
        g1 /= g1.sum();
        var kernel = outer(g1, g1).expand(c, 1, size, size).contiguous();
        int pad = size / 2;
        var blurred = F.conv2d(images, kernel, padding: [pad, pad], groups: c);
        var weight = F.conv2d(ones_like(images[.., ..1]), kernel[..1], padding: [pad, pad]);
        return blurred.div_(weight).MoveToOuterDisposeScope();
    }
}
