using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML;

/// <summary>
/// Layer masking on ML.NET's transforms catalog: <c>mlContext.Transforms.LayerMask(...)</c>. Every overload takes the
/// classifier as one <see cref="ImageClassifier"/> (or something it is made from) and pixels as ExtractPixels writes
/// them: the transform applies the classifier's normalisation itself.
/// </summary>
public static class LayerMaskingCatalog
{
    /// <summary>Scores images with the removed pixels (mask value 0) taken out, by layer masking or a baseline.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Classifier, columns and method.</param>
    public static LayerMaskingEstimator LayerMask(this TransformsCatalog catalog, LayerMaskingOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new LayerMaskingEstimator(CatalogEnvironment.Of(catalog), options);
    }

    /// <summary>Scores images with the removed pixels taken out, using <paramref name="classifier"/>.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">Output column of class probabilities.</param>
    /// <param name="classifier">Network, normalisation, image shape and class names (a PredictedLabel key column is added when it has class names).</param>
    /// <param name="imageColumnName">Planar C×H×W float vector column in pixel space (ExtractPixels output).</param>
    /// <param name="maskColumnName">H×W float vector column (row-major), 1 = kept, 0 = removed.</param>
    /// <param name="method">How removed pixels are taken out.</param>
    /// <param name="maskMarksRemoved">True when 1 in the mask means "remove" (an object segmentation), false when it means "keep".</param>
    public static LayerMaskingEstimator LayerMask(this TransformsCatalog catalog, string outputColumnName, ImageClassifier classifier,
        string imageColumnName = "Image", string maskColumnName = "Mask", MaskingMethod method = MaskingMethod.LayerMasking,
        bool maskMarksRemoved = false) =>
        catalog.LayerMask(new LayerMaskingOptions
        {
            Classifier = classifier ?? throw new ArgumentNullException(nameof(classifier)),
            ScoreColumnName = outputColumnName,
            ImageColumnName = imageColumnName,
            MaskColumnName = maskColumnName,
            Method = method,
            MaskMarksRemoved = maskMarksRemoved,
        });

    /// <summary>
    /// Scores images with the removed pixels taken out, using a TorchSharp or TorchVision <paramref name="model"/> in place,
    /// shorthand for <see cref="ImageClassifier.FromModule"/>.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">Output column of class probabilities.</param>
    /// <param name="model">The network.</param>
    /// <param name="normalization">The normalisation the network was trained with (<see cref="ChannelNormalization.ImageNet"/>
    /// for torchvision's pretrained weights; <see cref="ChannelNormalization.Identity"/> when the column is already normalised).</param>
    /// <param name="imageWidth">Image width in pixels (as in ResizeImages).</param>
    /// <param name="imageHeight">Image height in pixels.</param>
    /// <param name="imageColumnName">Planar C×H×W float vector column in pixel space (ExtractPixels output).</param>
    /// <param name="maskColumnName">H×W float vector column (row-major), 1 = kept, 0 = removed.</param>
    /// <param name="method">How removed pixels are taken out.</param>
    public static LayerMaskingEstimator LayerMask(this TransformsCatalog catalog, string outputColumnName, nn.Module<Tensor, Tensor> model,
        ChannelNormalization normalization, int imageWidth, int imageHeight,
        string imageColumnName = "Image", string maskColumnName = "Mask", MaskingMethod method = MaskingMethod.LayerMasking)
    {
        ArgumentNullException.ThrowIfNull(normalization);
        if (imageWidth < 1) throw new ArgumentOutOfRangeException(nameof(imageWidth), imageWidth, "set the image width in pixels");
        if (imageHeight < 1) throw new ArgumentOutOfRangeException(nameof(imageHeight), imageHeight, "set the image height in pixels");
        var classifier = ImageClassifier.FromModule(model, normalization, new ImageShape(normalization.Channels, imageHeight, imageWidth));
        return catalog.LayerMask(outputColumnName, classifier, imageColumnName, maskColumnName, method);
    }

    /// <summary>
    /// Scores images with the removed pixels taken out, using a classifier trained with
    /// <c>mlContext.MulticlassClassification.Trainers.ResNet</c>: its network (in place), normalization, image size
    /// and class names, so the output also has a PredictedLabel that <c>MulticlassClassification.Evaluate</c> accepts.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">Output column of class probabilities.</param>
    /// <param name="classifier">The trained classifier; its image column is read.</param>
    /// <param name="maskColumnName">H×W float vector column (row-major) of 0s and 1s.</param>
    /// <param name="method">How removed pixels are taken out.</param>
    /// <param name="maskMarksRemoved">True when 1 in the mask means "remove" (an object segmentation), false when it means "keep".</param>
    /// <param name="predictedLabelColumnName">Output key column of the top class.</param>
    public static LayerMaskingEstimator LayerMask(this TransformsCatalog catalog, string outputColumnName, ResNetClassificationTransformer classifier,
        string maskColumnName = "Mask", MaskingMethod method = MaskingMethod.LayerMasking, bool maskMarksRemoved = false,
        string predictedLabelColumnName = "PredictedLabel")
    {
        ArgumentNullException.ThrowIfNull(classifier);
        return catalog.LayerMask(new LayerMaskingOptions
        {
            Classifier = classifier.Classifier,
            ImageColumnName = classifier.ImageColumnName,
            ScoreColumnName = outputColumnName,
            MaskColumnName = maskColumnName,
            MaskMarksRemoved = maskMarksRemoved,
            Method = method,
            PredictedLabelColumnName = predictedLabelColumnName,
        });
    }
}
