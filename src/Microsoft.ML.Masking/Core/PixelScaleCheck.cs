using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core;

/// <summary>
/// Compares the pixels of a first batch with the normalisation a classifier expects, so that a forgotten
/// <c>scaleImage: 1f / 255</c> (0–255 pixels fed to a network trained on 0–1) is reported instead of giving
/// saturated scores silently.
/// </summary>
internal static class PixelScaleCheck
{
    // After normalisation the training data has mean 0 and deviation 1 per channel. A batch of real images can sit a
    // few deviations off; one hundreds of deviations off, or with almost no spread left, is on another pixel scale.
    private const double MaxAbsMean = 4, MaxDeviation = 8, MinDeviation = 0.05;

    /// <summary>A warning naming the column and the channel when the pixels do not fit the normalization; null when they do.</summary>
    /// <param name="pixels">[N, C, H, W] in pixel space; NaN and infinite values are ignored.</param>
    /// <param name="normalization">The classifier's normalization.</param>
    /// <param name="column">The image column, for the message.</param>
    public static string? Check(Tensor pixels, ChannelNormalization normalization, string column)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long rows = pixels.shape[0];
        var perChannel = pixels.transpose(0, 1).reshape(pixels.shape[1], -1).to(ScalarType.Float64).cpu();
        for (int c = 0; c < perChannel.shape[0]; c++)
        {
            var values = perChannel[c].masked_select(isfinite(perChannel[c]));
            if (values.numel() < 2)
                continue;
            double mean = values.mean().item<double>(), deviation = values.std(unbiased: false).item<double>();
            if (normalization.MeanImage is not null)
            {
                // A mean-image network (ML.NET's ResNet-18) was not trained on normalised inputs of deviation 1, so
                // only the pixel scale is compared with the mean image's: 0–1 against 0–255, or the other way round.
                double pixelMax = values.abs().max().item<double>(), meanScale = Math.Abs(normalization.ChannelPixelMean(c));
                bool unitPixels = pixelMax <= 1.5 && meanScale >= 10, bytePixels = pixelMax > 10 && meanScale > 0 && meanScale <= 1.5;
                if (!unitPixels && !bytePixels)
                    continue;
                return FormattableString.Invariant($"Column '{column}': in the first {rows} row(s), channel {c} holds pixel values up to {pixelMax:G4}, ") +
                    FormattableString.Invariant($"but the classifier's mean image averages {meanScale:G4} there, so its scores will be unreliable. ") +
                    (unitPixels
                        ? "Extract the pixels without scaleImage (ExtractPixels' default keeps 0–255), or make the classifier with pixelMaximum: 1."
                        : "Scale the pixels to 0–1 (ExtractPixels(scaleImage: 1f / 255)), or make the classifier with pixelMaximum: 255.");
            }
            double normalizedMean = (mean - normalization.Mean[c]) / normalization.StandardDeviation[c];
            double normalizedDeviation = deviation / normalization.StandardDeviation[c];
            bool fits = Math.Abs(normalizedMean) <= MaxAbsMean && normalizedDeviation <= MaxDeviation && (deviation == 0 || normalizedDeviation >= MinDeviation);
            if (fits)
                continue;
            double min = values.min().item<double>(), max = values.max().item<double>();
            float expectedMean = normalization.Mean[c], expectedDeviation = normalization.StandardDeviation[c];
            return FormattableString.Invariant($"Column '{column}': in the first {rows} row(s), channel {c} holds pixel values from {min:G4} to {max:G4} (mean {mean:G4}); ") +
                FormattableString.Invariant($"the classifier's normalization (mean {expectedMean:G4}, standard deviation {expectedDeviation:G4}) turns them into mean {normalizedMean:G3} ") +
                FormattableString.Invariant($"and standard deviation {normalizedDeviation:G3}, where the network was trained on about 0 and 1, so its scores will be unreliable. ") +
                "Pixels of 0–255 with a normalization for 0–1 (such as ChannelNormalization.ImageNet) need ExtractPixels(scaleImage: 1f / 255).";
        }
        return null;
    }
}
