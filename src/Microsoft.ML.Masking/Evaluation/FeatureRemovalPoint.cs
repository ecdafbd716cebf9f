namespace Microsoft.ML.Masking.Evaluation;

/// <summary>One point of a feature-removal curve: what the classifier does with a given fraction of every image removed.</summary>
public sealed class FeatureRemovalPoint
{
    internal FeatureRemovalPoint(double fraction, double pixelsRemoved, double accuracy, double accuracyStandardError,
        double unchanged, double unchangedStandardError, double classEntropy)
    {
        Fraction = fraction;
        PixelsRemoved = pixelsRemoved;
        Accuracy = accuracy;
        AccuracyStandardError = accuracyStandardError;
        Unchanged = unchanged;
        UnchangedStandardError = unchangedStandardError;
        ClassEntropy = classEntropy;
    }

    /// <summary>Fraction of each image's segments removed.</summary>
    public double Fraction { get; }

    /// <summary>Mean fraction of pixels removed (equals <see cref="Fraction"/> up to rounding for equal patches; differs for superpixels).</summary>
    public double PixelsRemoved { get; }

    /// <summary>Top-1 accuracy.</summary>
    public double Accuracy { get; }

    /// <summary>Standard error of <see cref="Accuracy"/> over images (per-image results averaged over repeats first); NaN below two images.</summary>
    public double AccuracyStandardError { get; }

    /// <summary>Fraction of predictions equal to the network's prediction on the whole image.</summary>
    public double Unchanged { get; }

    /// <summary>Standard error of <see cref="Unchanged"/> over images; NaN below two images.</summary>
    public double UnchangedStandardError { get; }

    /// <summary>
    /// Entropy (natural log) of the histogram of predicted classes over all images: it falls towards 0 when the
    /// removal drives every image to the same few classes, a sign the network reads the mask rather than the image.
    /// </summary>
    public double ClassEntropy { get; }
}
