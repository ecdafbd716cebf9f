using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML;

/// <summary>Layer masking on ML.NET's transforms catalog: <c>mlContext.Transforms.LayerMask(...)</c>.</summary>
public static class LayerMaskingCatalog
{
    /// <summary>Scores images with the removed pixels (mask value 0) taken out, by layer masking or a baseline.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Columns, image size, method and network.</param>
    public static LayerMaskingEstimator LayerMask(this TransformsCatalog catalog, LayerMaskingOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new LayerMaskingEstimator(CatalogEnvironment.Of(catalog), options);
    }

    /// <summary>Scores images with the removed pixels taken out, using <paramref name="model"/> in place.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="model">The network.</param>
    /// <param name="imageHeight">Image height in pixels.</param>
    /// <param name="imageWidth">Image width in pixels.</param>
    /// <param name="imageColumnName">Planar C×H×W float vector column (ExtractPixels output).</param>
    /// <param name="maskColumnName">H×W float vector column, 1 = kept, 0 = removed.</param>
    /// <param name="scoreColumnName">Output column of class probabilities.</param>
    /// <param name="method">How removed pixels are taken out.</param>
    public static LayerMaskingEstimator LayerMask(this TransformsCatalog catalog, ResNet model, int imageHeight, int imageWidth,
        string imageColumnName = "Image", string maskColumnName = "Mask", string scoreColumnName = "Score",
        MaskingMethod method = MaskingMethod.LayerMasking) =>
        catalog.LayerMask(new LayerMaskingOptions
        {
            Model = model ?? throw new ArgumentNullException(nameof(model)),
            ImageChannels = model.Architecture.InputChannels,
            ImageHeight = imageHeight,
            ImageWidth = imageWidth,
            ImageColumnName = imageColumnName,
            MaskColumnName = maskColumnName,
            ScoreColumnName = scoreColumnName,
            Method = method,
        });

    /// <summary>
    /// Scores images with the removed pixels taken out, using a classifier trained with
    /// <c>mlContext.MulticlassClassification.Trainers.ResNet</c>: its network (in place), normalization, image size
    /// and class names, so the output also has a PredictedLabel that <c>MulticlassClassification.Evaluate</c> accepts.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="classifier">The trained classifier.</param>
    /// <param name="maskColumnName">H×W float vector column of 0s and 1s.</param>
    /// <param name="method">How removed pixels are taken out.</param>
    /// <param name="maskMarksRemoved">True when 1 in the mask means "remove" (an object segmentation), false when it means "keep".</param>
    /// <param name="scoreColumnName">Output column of class probabilities.</param>
    /// <param name="predictedLabelColumnName">Output key column of the top class.</param>
    public static LayerMaskingEstimator LayerMask(this TransformsCatalog catalog, ResNetClassificationTransformer classifier,
        string maskColumnName = "Mask", MaskingMethod method = MaskingMethod.LayerMasking, bool maskMarksRemoved = false,
        string scoreColumnName = "Score", string predictedLabelColumnName = "PredictedLabel")
    {
        ArgumentNullException.ThrowIfNull(classifier);
        return catalog.LayerMask(new LayerMaskingOptions
        {
            Model = classifier.ResNet,
            ImageColumnName = classifier.ImageColumnName,
            ImageChannels = classifier.ImageShape.Channels,
            ImageHeight = classifier.ImageShape.Height,
            ImageWidth = classifier.ImageShape.Width,
            ChannelMean = classifier.Normalization.Mean.ToArray(),
            ChannelStandardDeviation = classifier.Normalization.StandardDeviation.ToArray(),
            ClassNames = classifier.ClassNames,
            MaskColumnName = maskColumnName,
            MaskMarksRemoved = maskMarksRemoved,
            Method = method,
            ScoreColumnName = scoreColumnName,
            PredictedLabelColumnName = predictedLabelColumnName,
        });
    }
}
