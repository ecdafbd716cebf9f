using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core;

/// <summary>
/// Per-channel normalisation <c>(x − Mean[c]) / StandardDeviation[c]</c>, the input convention of a network.
/// ExtractPixels applies one offset and scale to every channel, so components that feed a network store this and
/// apply it themselves. After normalisation 0 is the data set's mean colour ("grey"), and pixel value 0 ("black")
/// is −Mean/StandardDeviation.
/// </summary>
public sealed class ChannelNormalization
{
    /// <summary>Creates a normalisation; both lists need one value per channel and every deviation must be positive.</summary>
    public ChannelNormalization(IReadOnlyList<float> mean, IReadOnlyList<float> standardDeviation)
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
    }

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

    /// <summary>Normalizes a batch [N, C, H, W] (a new tensor on the batch's device).</summary>
    public Tensor Apply(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4)
            throw new ArgumentException($"Expected images [N, {Channels}, H, W]; got [{string.Join(", ", images.shape)}].");
        EnsureChannels((int)images.shape[1]);
        using var scope = NewDisposeScope();
        return images.sub(Statistic(Mean, images.device)).div_(Statistic(StandardDeviation, images.device)).MoveToOuterDisposeScope();
    }

    /// <summary>Black (pixel value 0) after normalization, per channel, shaped [1, C, 1, 1].</summary>
    public Tensor Black(Device device)
    {
        // The scope frees the flat tensor behind the view, which would otherwise live until the GC finds it.
        using var scope = NewDisposeScope();
        return tensor(Mean.Zip(StandardDeviation, (m, s) => -m / s).ToArray(), device: device).view(1, -1, 1, 1).MoveToOuterDisposeScope();
    }

    private static Tensor Statistic(IReadOnlyList<float> values, Device device) => tensor(values.ToArray(), device: device).view(1, -1, 1, 1);
}
