using Microsoft.ML.Masking.Data;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core;

/// <summary>
/// The input convention of a network: <c>(x[c] − Mean[c] − MeanImage[c, y, x]) / StandardDeviation[c]</c> per input
/// channel, then the channels reordered by <see cref="ChannelOrder"/>. Most networks use only the per-channel part
/// (torchvision's ImageNet statistics, or statistics measured on the training set); ML.NET's ImageNet ResNet-18
/// (<c>DnnFeaturizeImage</c>) takes BGR pixels on the 0–255 scale minus a per-pixel mean image
/// (<see cref="FromMeanImage"/>). ExtractPixels applies one offset and scale to every channel, so components that
/// feed a network store this and apply it themselves. After normalisation 0 is the mean ("grey":
/// <see cref="MeanPixels"/> in pixel space), and pixel value 0 ("black") is −(Mean + MeanImage)/StandardDeviation.
/// </summary>
/// <remarks>Everything in pixel space (<see cref="Mean"/>, <see cref="StandardDeviation"/>, <see cref="MeanImage"/>)
/// is in the image column's channel order (RGB for ExtractPixels' default); only the normalised tensor handed to the
/// network is reordered.</remarks>
public sealed class ChannelNormalization
{
    private readonly float[]? _meanImage;
    private readonly int[]? _channelOrder;

    /// <summary>Creates a normalisation; both lists need one value per channel and every deviation must be positive.</summary>
    public ChannelNormalization(IReadOnlyList<float> mean, IReadOnlyList<float> standardDeviation)
        : this(mean, standardDeviation, channelOrder: null, meanImage: null, meanImageShape: null)
    {
    }

    /// <summary>
    /// Creates a normalisation with a channel reordering and/or a per-pixel mean image besides the per-channel
    /// statistics.
    /// </summary>
    /// <param name="mean">Per-channel offset, in the image column's channel order (zeros when the mean image holds it all).</param>
    /// <param name="standardDeviation">Per-channel divisor, in the image column's channel order.</param>
    /// <param name="channelOrder">Network channel c reads image channel <c>channelOrder[c]</c> (for example [2, 1, 0]: RGB
    /// pixels to a BGR network); null keeps the order.</param>
    /// <param name="meanImage">A C×H×W image subtracted from every image (planar, row-major, the image column's channel
    /// order and pixel scale); null for none.</param>
    /// <param name="meanImageShape">The mean image's (C, H, W); required with <paramref name="meanImage"/>.</param>
    /// <exception cref="ArgumentException">A list has the wrong length, a value is not finite, a deviation is not
    /// positive, the order is not a permutation, or the mean image does not fit its shape (the message says which).</exception>
    public ChannelNormalization(IReadOnlyList<float> mean, IReadOnlyList<float> standardDeviation,
        IReadOnlyList<int>? channelOrder, IReadOnlyList<float>? meanImage, ImageShape? meanImageShape)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(standardDeviation);
        if (mean.Count == 0 || mean.Count != standardDeviation.Count)
            throw new ArgumentException(
                $"A channel normalization needs one mean and one standard deviation per channel; mean has {mean.Count} value(s) and standardDeviation {standardDeviation.Count}.",
                mean.Count == 0 ? nameof(mean) : nameof(standardDeviation));
        for (int c = 0; c < mean.Count; c++)
        {
            if (!float.IsFinite(mean[c]))
                throw new ArgumentException(FormattableString.Invariant($"mean[{c}] is {mean[c]}; channel means must be finite."), nameof(mean));
            if (!(standardDeviation[c] > 0) || !float.IsFinite(standardDeviation[c]))
                throw new ArgumentException(FormattableString.Invariant($"standardDeviation[{c}] is {standardDeviation[c]}; standard deviations must be finite and positive."), nameof(standardDeviation));
        }
        Mean = mean.ToArray();
        StandardDeviation = standardDeviation.ToArray();
        if (channelOrder is not null)
        {
            if (channelOrder.Count != mean.Count || channelOrder.Order().Select((c, i) => c == i).Any(same => !same))
                throw new ArgumentException(
                    $"channelOrder [{string.Join(", ", channelOrder)}] must be a permutation of 0…{mean.Count - 1}, one entry per channel.", nameof(channelOrder));
            if (channelOrder.Select((c, i) => c != i).Any(moved => moved))
                _channelOrder = channelOrder.ToArray();
        }
        if (meanImage is not null)
        {
            if (meanImageShape is not { } shape)
                throw new ArgumentException("A mean image needs its shape (meanImageShape).", nameof(meanImageShape));
            if (shape.Channels != mean.Count || shape.Height < 1 || shape.Width < 1 || (long)shape.Channels * shape.Height * shape.Width != meanImage.Count)
                throw new ArgumentException(
                    $"The mean image has {meanImage.Count} value(s); a {shape} mean image for {mean.Count} channel(s) needs {(long)mean.Count * shape.Height * shape.Width}.",
                    nameof(meanImage));
            if (meanImage.Any(v => !float.IsFinite(v)))
                throw new ArgumentException("The mean image holds a NaN or infinite value.", nameof(meanImage));
            _meanImage = meanImage.ToArray();
            MeanImageShape = shape;
        }
    }

    /// <summary>
    /// The preprocessing of a network trained on images minus a per-pixel mean image, such as ML.NET's ImageNet
    /// ResNet-18 (<c>DnnFeaturizeImage</c>: BGR on the 0–255 scale minus its mean image; see
    /// <see cref="Models.Onnx.OnnxResNetImporter.ReadMeanImagePreprocessing(string)"/>): no per-channel scaling.
    /// </summary>
    /// <param name="meanImage">The mean image, planar C×H×W in the image column's channel order and pixel scale.</param>
    /// <param name="shape">Its (C, H, W): the images must have the same.</param>
    /// <param name="channelOrder">Network channel c reads image channel <c>channelOrder[c]</c>; null keeps the order.</param>
    public static ChannelNormalization FromMeanImage(IReadOnlyList<float> meanImage, ImageShape shape, IReadOnlyList<int>? channelOrder = null)
    {
        ArgumentNullException.ThrowIfNull(meanImage);
        return new(new float[shape.Channels], Enumerable.Repeat(1f, shape.Channels).ToArray(), channelOrder, meanImage, shape);
    }

    /// <summary>Network channel c reads image channel <c>ChannelOrder[c]</c>; null when the order is kept.</summary>
    public IReadOnlyList<int>? ChannelOrder => _channelOrder;

    /// <summary>The per-pixel mean image subtracted besides <see cref="Mean"/> (planar C×H×W, image channel order); null for none.</summary>
    public IReadOnlyList<float>? MeanImage => _meanImage;

    /// <summary>The (C, H, W) of <see cref="MeanImage"/>; null when there is none. Images must have this shape.</summary>
    public ImageShape? MeanImageShape { get; }

    /// <summary>Mean of each channel, in input units.</summary>
    public IReadOnlyList<float> Mean { get; }

    /// <summary>Standard deviation of each channel, in input units.</summary>
    public IReadOnlyList<float> StandardDeviation { get; }

    /// <summary>Number of channels.</summary>
    public int Channels => Mean.Count;

    /// <summary>No normalization: mean 0 and deviation 1 for each of <paramref name="channels"/> channels.</summary>
    public static ChannelNormalization Identity(int channels) =>
        new(new float[channels], Enumerable.Repeat(1f, channels).ToArray());

    /// <summary>
    /// ImageNet's statistics for RGB pixels in 0–1 (torchvision's pretrained models): mean (0.485, 0.456, 0.406),
    /// standard deviation (0.229, 0.224, 0.225). Use ExtractPixels with <c>scaleImage: 1f / 255</c>.
    /// </summary>
    public static ChannelNormalization ImageNet { get; } = new([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>
    /// The mean and standard deviation of each channel over all pixels of <paramref name="images"/> ([N, C, H, W]),
    /// computed in double precision. A constant channel gets a deviation of 1.
    /// </summary>
    public static ChannelNormalization Measure(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4)
            throw new ArgumentException($"Expected images [N, C, H, W]; got [{string.Join(", ", images.shape)}].", nameof(images));
        // Two passes over chunks of images, a channel at a time, in double precision: the memory is a double copy of
        // one chunk, not of the whole set (for a training set that was twice its float size, on top of it).
        const long ChunkImages = 1024;
        long count = images.shape[0], channels = images.shape[1];
        double values = (double)count * images.shape[2] * images.shape[3];
        var means = new float[channels];
        var deviations = new float[channels];
        for (long c = 0; c < channels; c++)
        {
            double sum = 0;
            for (long start = 0; start < count; start += ChunkImages)
            {
                using var scope = NewDisposeScope();
                sum += images.narrow(0, start, Math.Min(ChunkImages, count - start)).select(1, c).to(ScalarType.Float64).sum().item<double>();
            }
            double mean = sum / values;
            double squares = 0;
            for (long start = 0; start < count; start += ChunkImages)
            {
                using var scope = NewDisposeScope();
                var chunk = images.narrow(0, start, Math.Min(ChunkImages, count - start)).select(1, c).to(ScalarType.Float64);
                var deviation = chunk.Plus(-mean);
                squares += deviation.mul(deviation).sum().item<double>();
            }
            double standardDeviation = Math.Sqrt(squares / values);
            means[c] = (float)mean;
            deviations[c] = standardDeviation > 1e-12 ? (float)standardDeviation : 1f;
        }
        return new ChannelNormalization(means, deviations);
    }

    /// <summary>Throws unless this normalization has exactly <paramref name="channels"/> channels.</summary>
    internal void EnsureChannels(int channels)
    {
        if (channels != Channels)
            throw new ArgumentException($"The normalization has {Channels} channel(s); the images have {channels}.");
    }

    /// <summary>Throws unless images [N, C, H, W] fit: the channel count, and the mean image's size when there is one.</summary>
    private void EnsureFits(Tensor images)
    {
        if (images.dim() != 4)
            throw new ArgumentException($"Expected images [N, {Channels}, H, W]; got [{string.Join(", ", images.shape)}].");
        EnsureChannels((int)images.shape[1]);
        if (MeanImageShape is { } shape && (images.shape[2] != shape.Height || images.shape[3] != shape.Width))
            throw new ArgumentException(
                $"The normalization's mean image is {shape.Height}×{shape.Width} (height × width); the images are {images.shape[2]}×{images.shape[3]}.");
    }

    /// <summary>
    /// The pixels that normalise to 0 ("grey"): <see cref="Mean"/> plus <see cref="MeanImage"/>, in pixel space and
    /// the image column's channel order, shaped [1, C, 1, 1] or, with a mean image, [1, C, H, W].
    /// </summary>
    public Tensor MeanPixels(Device device)
    {
        using var scope = NewDisposeScope();
        var mean = Statistic(Mean, device);
        if (_meanImage is not null && MeanImageShape is { } shape)
            mean = tensor(_meanImage, [1, shape.Channels, shape.Height, shape.Width], device: device).PlusInPlace(mean);
        return mean.MoveToOuterDisposeScope();
    }

    /// <summary>The mean pixel value of channel <paramref name="channel"/> (its <see cref="Mean"/> plus the mean image's average).</summary>
    internal double ChannelPixelMean(int channel)
    {
        if (_meanImage is null || MeanImageShape is not { } shape)
            return Mean[channel];
        int plane = shape.Height * shape.Width;
        double sum = 0;
        for (int i = channel * plane; i < (channel + 1) * plane; i++)
            sum += _meanImage[i];
        return Mean[channel] + sum / plane;
    }

    /// <summary>Normalizes a batch [N, C, H, W] (a new tensor on the batch's device).</summary>
    /// <remarks>With a mean image the images must have its height and width; with a <see cref="ChannelOrder"/> the
    /// result's channels are in the network's order.</remarks>
    public Tensor Apply(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        EnsureFits(images);
        using var scope = NewDisposeScope();
        return Reorder(images.sub(MeanPixels(images.device)).div_(Statistic(StandardDeviation, images.device))).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Black (pixel value 0) after normalization, in the network's channel order, shaped [1, C, 1, 1] or, with a mean
    /// image, [1, C, H, W].
    /// </summary>
    public Tensor Black(Device device)
    {
        // The scope frees the flat tensors behind the views, which would otherwise live until the GC finds them.
        using var scope = NewDisposeScope();
        return Reorder(MeanPixels(device).neg_().div_(Statistic(StandardDeviation, device))).MoveToOuterDisposeScope();
    }

    private Tensor Reorder(Tensor normalized) =>
        _channelOrder is null ? normalized : normalized.index_select(1, tensor(_channelOrder.Select(c => (long)c).ToArray(), device: normalized.device));

    private static Tensor Statistic(IReadOnlyList<float> values, Device device) => tensor(values.ToArray(), device: device).view(1, -1, 1, 1);
}
