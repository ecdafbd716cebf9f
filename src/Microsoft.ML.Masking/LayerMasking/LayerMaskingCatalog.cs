using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.Models;
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
}
