using Microsoft.ML.Data;
using Microsoft.ML.Masking.Data;

namespace Microsoft.ML.Masking.Core.Batching;

/// <summary>
/// The layout of an image or per-pixel column, read from its <see cref="VectorDataViewType.Dimensions"/>:
/// ImageAnalytics' ExtractPixels writes planar [C, H, W] (and interleaved [H, W, C]), the library's own loaders
/// write [C, H, W] for images and [H, W] for per-pixel columns, and a plain vector has one dimension (its size).
/// Against a known shape the checks are <see cref="SchemaChecks.CheckImageVector"/> and
/// <see cref="SchemaChecks.CheckPixelVector"/> (one wording); without one, the shape is taken from the dimensions.
/// </summary>
internal static class ImageColumnLayout
{
    /// <summary>
    /// The image shape of column <paramref name="columnName"/>: <paramref name="expected"/> when given (checked
    /// against the column's size and dimensions), else the column's [C, H, W] or [H, W] dimensions, else a square
    /// image with one or three channels of the column's size.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a known-size float vector, a size or layout other than expected, or interleaved pixels.</exception>
    public static ImageShape ResolveImage(DataViewSchema schema, string columnName, ImageShape? expected, string shapeOption, string paramName, string? dataName)
    {
        if (expected is { } shape)
        {
            SchemaChecks.CheckImageVector(schema, columnName, shape, paramName, dataName);
            return shape;
        }
        var column = schema.GetColumnOrNull(columnName) ?? throw SchemaChecks.NotFound(paramName, columnName, dataName);
        const string planar = "known-size vector of Single (planar channels × height × width)";
        if (column.Type is not VectorDataViewType { ItemType: var item } vector || item != NumberDataViewType.Single)
            throw SchemaChecks.Mismatch(paramName, columnName, planar, $"{column.Type}", dataName);
        if (!vector.IsKnownSize)
            throw SchemaChecks.Mismatch(paramName, columnName, planar,
                $"{column.Type} of unknown size (declare the size, e.g. [VectorType(channels * height * width)], or ExtractPixels after ResizeImages)", dataName);
        var dims = vector.Dimensions;
        switch (dims.Length)
        {
            case 3 when dims[0] > 4 && dims[2] <= 4:
                throw new ArgumentOutOfRangeException(paramName, $"Schema mismatch for input column '{columnName}'{In(dataName)}: expected {planar}, " +
                    $"got {column.Type}.{SchemaChecks.InterleavedHint}");
            case 3:
                return new ImageShape(dims[0], dims[1], dims[2]);
            case 2:
                return new ImageShape(1, dims[0], dims[1]);
            case > 3:
                throw SchemaChecks.Mismatch(paramName, columnName, planar, $"{column.Type}", dataName);
        }
        return ImageShape.InferSquare(vector.Size) ?? throw SchemaChecks.Mismatch(paramName, columnName,
            "planar images with known dimensions [C, H, W] (as ExtractPixels writes them) or square images with 1 or 3 channels",
            $"{column.Type}, whose {vector.Size} values have no such layout; set {shapeOption}", dataName);
    }

    private static string In(string? dataName) => dataName is null ? "" : $" in the {dataName}";
}
