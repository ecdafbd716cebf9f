using Microsoft.ML.Masking.Masks;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML;

/// <summary>
/// Mask-making transforms on <c>mlContext.Transforms</c>. Each writes a keep-mask column — height × width floats,
/// row-major (value <c>y · width + x</c> is row y, column x, (0, 0) top-left), 1 = keep, 0 = remove, with
/// dimensions [height, width] — that <c>LayerMask</c> and the evaluators read, and each saves with the pipeline in
/// model.zip.
/// </summary>
public static class MaskCatalog
{
    /// <summary>A keep-mask from rectangles, the same for every row (see <see cref="BoxMaskOptions"/>).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">The boxes, the image column and the mask column.</param>
    public static KeepMaskEstimator BoxMask(this TransformsCatalog catalog, BoxMaskOptions options) =>
        KeepMaskEstimator.Boxes(CatalogEnvironment.Of(catalog), options);

    /// <summary>A keep-mask that removes (or keeps only) <paramref name="boxes"/> in every image of <paramref name="inputColumnName"/>.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">The keep-mask column to write.</param>
    /// <param name="inputColumnName">The image column (dimensions [C, H, W]) whose size the masks take.</param>
    /// <param name="boxes">The rectangles, each inside the image.</param>
    /// <param name="selection">Remove the boxes (default) or keep only them.</param>
    public static KeepMaskEstimator BoxMask(this TransformsCatalog catalog, string outputColumnName, string inputColumnName,
        IReadOnlyList<MaskBox> boxes, MaskSelection selection = MaskSelection.Remove) =>
        catalog.BoxMask(new BoxMaskOptions { OutputColumnName = outputColumnName, InputColumnName = inputColumnName, Boxes = boxes, Selection = selection });

    /// <summary>A keep-mask removing a random fraction of square patches, drawn per row (see <see cref="PatchGridMaskOptions"/>).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Patch size, fraction, seed, columns.</param>
    public static KeepMaskEstimator PatchGridMask(this TransformsCatalog catalog, PatchGridMaskOptions options) =>
        KeepMaskEstimator.PatchGrid(CatalogEnvironment.Of(catalog), options);

    /// <summary>
    /// A keep-mask removing round(<paramref name="removeFraction"/> × patches) random <paramref name="patchSize"/>-pixel
    /// patches from each image of <paramref name="inputColumnName"/>; the same row always gets the same mask.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">The keep-mask column to write.</param>
    /// <param name="inputColumnName">The image column (dimensions [C, H, W]) whose size the masks take.</param>
    /// <param name="patchSize">Patch side in pixels.</param>
    /// <param name="removeFraction">Fraction of patches removed, in [0, 1].</param>
    /// <param name="seed">Seed of the per-row draws.</param>
    public static KeepMaskEstimator PatchGridMask(this TransformsCatalog catalog, string outputColumnName, string inputColumnName,
        int patchSize = 8, double removeFraction = 0.5, int seed = 0) =>
        catalog.PatchGridMask(new PatchGridMaskOptions
        {
            OutputColumnName = outputColumnName, InputColumnName = inputColumnName, PatchSize = patchSize, RemoveFraction = removeFraction, Seed = seed,
        });

    /// <summary>A keep-mask from chosen ids of a segment column (see <see cref="SegmentMaskOptions"/>).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Ids, selection, columns.</param>
    public static KeepMaskEstimator SegmentMask(this TransformsCatalog catalog, SegmentMaskOptions options) =>
        KeepMaskEstimator.Segments(CatalogEnvironment.Of(catalog), options);

    /// <summary>
    /// A keep-mask that removes (or keeps only) the union of segments <paramref name="segmentIds"/> of the per-pixel
    /// segment-id column <paramref name="inputColumnName"/>.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">The keep-mask column to write.</param>
    /// <param name="inputColumnName">The segment-id column: height × width whole numbers, dimensions [H, W].</param>
    /// <param name="segmentIds">The segment ids.</param>
    /// <param name="selection">Remove the segments (default) or keep only them.</param>
    public static KeepMaskEstimator SegmentMask(this TransformsCatalog catalog, string outputColumnName, string inputColumnName,
        IReadOnlyList<int> segmentIds, MaskSelection selection = MaskSelection.Remove) =>
        catalog.SegmentMask(new SegmentMaskOptions { OutputColumnName = outputColumnName, InputColumnName = inputColumnName, SegmentIds = segmentIds, Selection = selection });

    /// <summary>One keep-mask from several (see <see cref="CombineMasksOptions"/>).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Columns and combination.</param>
    public static KeepMaskEstimator CombineMasks(this TransformsCatalog catalog, CombineMasksOptions options) =>
        KeepMaskEstimator.Combine(CatalogEnvironment.Of(catalog), options);

    /// <summary>One keep-mask from the keep-mask columns <paramref name="inputColumnNames"/>.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">The keep-mask column to write.</param>
    /// <param name="inputColumnNames">At least two keep-mask columns of one size.</param>
    /// <param name="combination">Remove what any removes (default), or keep what any keeps.</param>
    public static KeepMaskEstimator CombineMasks(this TransformsCatalog catalog, string outputColumnName, IReadOnlyList<string> inputColumnNames,
        MaskCombination combination = MaskCombination.UnionOfRemoved) =>
        catalog.CombineMasks(new CombineMasksOptions { OutputColumnName = outputColumnName, InputColumnNames = inputColumnNames, Combination = combination });

    /// <summary>A keep-mask from a per-pixel map or pixels of a mask image, by threshold (see <see cref="ThresholdMaskOptions"/>).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">Threshold, inversion, columns.</param>
    public static KeepMaskEstimator ThresholdMask(this TransformsCatalog catalog, ThresholdMaskOptions options) =>
        KeepMaskEstimator.Threshold(CatalogEnvironment.Of(catalog), options);

    /// <summary>
    /// Keep-masks read from image files (PNG, JPEG, BMP), one per row: LoadImages of the file named in
    /// <paramref name="imagePathColumnName"/>, ResizeImages to <paramref name="imageWidth"/> × <paramref name="imageHeight"/>
    /// (resize the images and their masks with the same <paramref name="resizing"/>, so they line up), ExtractPixels
    /// scaled to [0, 1], then a pixel is kept when its channel mean is at least <paramref name="threshold"/> (white =
    /// keep; set <paramref name="invert"/> for masks painted white where removed).
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="imageWidth">Mask width.</param>
    /// <param name="imageHeight">Mask height.</param>
    /// <param name="outputColumnName">The keep-mask column to write. Default: "Mask".</param>
    /// <param name="imagePathColumnName">The column of mask file paths. Default: "MaskPath".</param>
    /// <param name="threshold">Keep at or above this channel mean, in [0, 1]. Default: 0.5.</param>
    /// <param name="invert">Remove, rather than keep, at or above the threshold. Default: false.</param>
    /// <param name="resizing">How the aspect ratio is kept. Default: IsoCrop (ML.NET's, and LoadImagePixels').</param>
    public static IEstimator<ITransformer> LoadImageMask(this TransformsCatalog catalog, int imageWidth, int imageHeight,
        string outputColumnName = "Mask", string imagePathColumnName = "MaskPath", float threshold = 0.5f, bool invert = false,
        ImageResizingEstimator.ResizingKind resizing = ImageResizingEstimator.ResizingKind.IsoCrop)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        if (imageWidth < 1)
            throw new ArgumentOutOfRangeException(nameof(imageWidth), imageWidth, "The mask width must be at least 1 pixel.");
        if (imageHeight < 1)
            throw new ArgumentOutOfRangeException(nameof(imageHeight), imageHeight, "The mask height must be at least 1 pixel.");
        ArgumentException.ThrowIfNullOrWhiteSpace(outputColumnName);
        ArgumentException.ThrowIfNullOrWhiteSpace(imagePathColumnName);
        if (!(threshold >= 0 && threshold <= 1))
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The threshold is on pixels scaled to [0, 1]; give a value in [0, 1].");
        string bitmap = outputColumnName + "Bitmap", pixels = outputColumnName + "Pixels";
        var thresholdMask = catalog.ThresholdMask(new ThresholdMaskOptions
        {
            OutputColumnName = outputColumnName, InputColumnName = pixels, Threshold = threshold, Invert = invert,
            ImageWidth = imageWidth, ImageHeight = imageHeight,
        });
        return catalog.LoadImages(bitmap, imageFolder: null!, imagePathColumnName)
            .Append(catalog.ResizeImages(bitmap, imageWidth, imageHeight, bitmap, resizing))
            .Append(catalog.ExtractPixels(pixels, bitmap, ImagePixelExtractingEstimator.ColorBits.Rgb, scaleImage: 1f / 255f))
            .Append(thresholdMask)
            .Append(catalog.DropColumns(bitmap, pixels));
    }
}
