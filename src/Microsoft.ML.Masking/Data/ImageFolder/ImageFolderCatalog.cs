using Microsoft.ML.Data;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML;

/// <summary>
/// Users' own images in the common folder-per-class layout (<c>root/cat/1.png</c>, <c>root/dog/7.jpg</c>, …):
/// a loader for the file list and labels, and the ImageAnalytics pipeline that turns the files into the planar
/// float pixel vectors the trainer and the masking transforms read.
/// </summary>
public static class ImageFolderCatalog
{
    /// <summary>The file extensions that count as images (case-insensitive).</summary>
    public static IReadOnlyList<string> ImageExtensions { get; } = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];

    /// <summary>
    /// Lists the images under <paramref name="directory"/>, one subdirectory per class: an image-path column
    /// (absolute paths, so a saved pipeline does not depend on the folder) and a key-typed label column whose
    /// key values are the subdirectory names, in ordinal order. Files are listed in ordinal order within each class.
    /// </summary>
    /// <param name="catalog">The data catalog.</param>
    /// <param name="directory">The root folder; each subdirectory with at least one image is a class.</param>
    /// <param name="imagePathColumnName">Name of the image-path column. Default: "ImagePath".</param>
    /// <param name="labelColumnName">Name of the label column. Default: "Label".</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">The folder has no class subdirectory with images.</exception>
    public static IDataView LoadImageFolder(this DataOperationsCatalog catalog, string directory,
        string imagePathColumnName = "ImagePath", string labelColumnName = "Label")
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Image folder '{directory}' does not exist.");

        var classes = Directory.GetDirectories(Path.GetFullPath(directory))
            .Order(StringComparer.Ordinal)
            .Select(d => (Name: Path.GetFileName(d), Files: Directory.GetFiles(d)
                .Where(f => ImageExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                .Order(StringComparer.Ordinal).ToArray()))
            .Where(c => c.Files.Length > 0)
            .ToArray();
        if (classes.Length == 0)
            throw new InvalidDataException(
                $"Image folder '{directory}' has no class subdirectories with images ({string.Join(", ", ImageExtensions)}); " +
                "expected one subdirectory per class, e.g. root/cat/1.png.");

        var rows = classes.SelectMany((c, label) => c.Files.Select(f => (Path: f, Label: label))).ToArray();
        var classNames = classes.Select(c => c.Name).ToArray();
        return new IndexedDataView<(string Path, int Label)>(rows.Length, i => rows[i],
        [
            IndexedColumn<(string Path, int Label)>.Text(imagePathColumnName, r => r.Path),
            IndexedColumn<(string Path, int Label)>.ClassKey(labelColumnName, classNames, r => r.Label),
        ]);
    }

    /// <summary>
    /// ImageAnalytics' <c>LoadImages → ResizeImages → ExtractPixels</c>: reads each file named in
    /// <paramref name="imagePathColumnName"/>, resizes it to <paramref name="imageWidth"/> × <paramref name="imageHeight"/>
    /// (the only resize, chosen here explicitly), and writes planar channel × height × width floats in [0, 1]
    /// (byte / 255) to <paramref name="outputColumnName"/>. Per-channel normalisation is not done here, because
    /// ExtractPixels can only apply one offset and scale to all channels: the ResNet trainer normalises each channel
    /// inside its model (see <c>ResNetTrainer.Options.ChannelMean</c>), so the saved pipeline always applies
    /// the statistics it was trained with.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="imageWidth">Width after resizing.</param>
    /// <param name="imageHeight">Height after resizing.</param>
    /// <param name="outputColumnName">Name of the pixel column. Default: "Image".</param>
    /// <param name="imagePathColumnName">Name of the image-path column. Default: "ImagePath".</param>
    /// <param name="grayscale">True for one grey channel, false for R, G, B. Default: false.</param>
    /// <param name="resizing">How the aspect ratio is kept. Default: <see cref="ImageResizingEstimator.ResizingKind.IsoCrop"/> (ML.NET's default).</param>
    public static IEstimator<ITransformer> LoadImagePixels(this TransformsCatalog catalog, int imageWidth, int imageHeight,
        string outputColumnName = "Image", string imagePathColumnName = "ImagePath", bool grayscale = false,
        ImageResizingEstimator.ResizingKind resizing = ImageResizingEstimator.ResizingKind.IsoCrop)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentOutOfRangeException.ThrowIfLessThan(imageWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(imageHeight, 1);
        string bitmap = outputColumnName + "Bitmap";
        IEstimator<ITransformer> pipeline = catalog.LoadImages(bitmap, imageFolder: null!, imagePathColumnName)
            .Append(catalog.ResizeImages(bitmap, imageWidth, imageHeight, bitmap, resizing));
        if (grayscale)
            pipeline = pipeline.Append(catalog.ConvertToGrayscale(bitmap, bitmap));
        return pipeline
            .Append(catalog.ExtractPixels(outputColumnName, bitmap,
                grayscale ? ImagePixelExtractingEstimator.ColorBits.Red : ImagePixelExtractingEstimator.ColorBits.Rgb,
                scaleImage: 1f / 255f))
            .Append(catalog.DropColumns(bitmap));
    }
}
