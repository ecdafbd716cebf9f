using Microsoft.ML.Data;
using Microsoft.ML.Masking.Data;

namespace Microsoft.ML.Masking.Core.Batching;

/// <summary>
/// The layout of an image or per-pixel column, read from its <see cref="VectorDataViewType.Dimensions"/>:
/// ImageAnalytics' ExtractPixels writes planar [C, H, W] (and interleaved [H, W, C]), the library's own loaders
/// write [C, H, W] for images and [H, W] for per-pixel columns, and a plain vector has one dimension (its size).
/// A layout that contradicts what the caller expects is a schema error naming the column.
/// </summary>
internal static class ImageColumnLayout
{
    /// <summary>
    /// The image shape of <paramref name="column"/>: <paramref name="expected"/> when given (checked against the
    /// column's size and dimensions), else the column's [C, H, W] or [H, W] dimensions, else a square image with one
    /// or three channels of the column's size.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a known-size float vector, a size or layout other than expected, or interleaved pixels.</exception>
    public static ImageShape ResolveImage(DataViewSchema.Column column, ImageShape? expected, string shapeOption, string paramName, string? dataName)
    {
        var vector = KnownSizeFloatVector(column, expected is { } e ? $"known-size vector of Single of size {e.Size}" : "known-size vector of Single (planar channels × height × width)", paramName, dataName);
        var dims = vector.Dimensions;
        ImageShape? declared = dims.Length switch
        {
            3 => new ImageShape(dims[0], dims[1], dims[2]),
            2 => new ImageShape(1, dims[0], dims[1]),
            _ => null,
        };
        if (dims.Length > 3)
            throw SchemaChecks.Mismatch(paramName, column.Name, "planar pixels [C, H, W]", $"{column.Type}", dataName);

        if (expected is { } shape)
        {
            if (declared is null)
            {
                if (vector.Size != shape.Size)
                    throw SchemaChecks.Mismatch(paramName, column.Name, $"known-size vector of Single of size {shape.Size}", $"{column.Type} (planar {shape} images expected)", dataName);
                return shape;
            }
            if (declared == shape)
                return shape;
            if (dims.Length == 3 && dims[0] == shape.Height && dims[1] == shape.Width && dims[2] == shape.Channels)
                throw Interleaved(column, paramName, dataName);
            string hint = declared.Value.Channels == shape.Channels && declared.Value.Height == shape.Width && declared.Value.Width == shape.Height
                ? "; height and width are swapped"
                : "";
            throw SchemaChecks.Mismatch(paramName, column.Name, $"known-size vector of Single of size {shape.Size}",
                $"{column.Type} (planar {shape} images expected{hint})", dataName);
        }

        if (declared is { } found)
        {
            if (dims.Length == 3 && found.Channels > 4 && dims[2] <= 4)
                throw Interleaved(column, paramName, dataName);
            return found;
        }
        return ImageShape.InferSquare(vector.Size) ?? throw SchemaChecks.Mismatch(paramName, column.Name,
            "planar images with known dimensions [C, H, W] (as ExtractPixels writes them) or square images with 1 or 3 channels",
            $"{column.Type}, whose {vector.Size} values have no such layout; set {shapeOption}", dataName);
    }

    /// <summary>Checks that <paramref name="column"/> holds one float per pixel of <paramref name="image"/> ([H, W], [1, H, W] or a plain vector of H × W).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a float vector of H × W values, or dimensions other than the image's.</exception>
    public static void CheckPerPixel(DataViewSchema.Column column, ImageShape image, string paramName, string? dataName)
    {
        string expected = $"known-size vector of Single of size {image.Pixels}";
        var vector = KnownSizeFloatVector(column, expected, paramName, dataName);
        var dims = vector.Dimensions;
        bool fits = vector.Size == image.Pixels && dims.Length switch
        {
            1 => true,
            2 => dims[0] == image.Height && dims[1] == image.Width,
            3 => dims[0] == 1 && dims[1] == image.Height && dims[2] == image.Width,
            _ => false,
        };
        if (!fits)
            throw SchemaChecks.Mismatch(paramName, column.Name, expected,
                $"{column.Type} (one value per pixel of the {image.Height}×{image.Width} images, row-major, expected)", dataName);
    }

    private static VectorDataViewType KnownSizeFloatVector(DataViewSchema.Column column, string expected, string paramName, string? dataName)
    {
        if (column.Type is not VectorDataViewType { ItemType: var item } vector || item != NumberDataViewType.Single)
            throw SchemaChecks.Mismatch(paramName, column.Name, expected, $"{column.Type}", dataName);
        if (!vector.IsKnownSize)
            throw SchemaChecks.Mismatch(paramName, column.Name, expected,
                $"{column.Type} of unknown size (declare the size, e.g. [VectorType(channels * height * width)], or ExtractPixels after ResizeImages)", dataName);
        return vector;
    }

    private static ArgumentOutOfRangeException Interleaved(DataViewSchema.Column column, string paramName, string? dataName) =>
        SchemaChecks.Mismatch(paramName, column.Name, "planar pixels [C, H, W] (ExtractPixels with interleavePixelColors: false, its default)",
            $"{column.Type}, interleaved [H, W, C] pixels", dataName);
}
