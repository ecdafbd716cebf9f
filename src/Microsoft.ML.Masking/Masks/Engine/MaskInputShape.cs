using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core;

namespace Microsoft.ML.Masking.Masks.Engine;

/// <summary>
/// Finds a mask's height and width from an input column and the options: the column's
/// <see cref="VectorDataViewType.Dimensions"/> ([C, H, W] or [H, W]) when it has them, else
/// <see cref="KeepMaskOptions.ImageWidth"/> and <see cref="KeepMaskOptions.ImageHeight"/>; both when both exist,
/// and they must agree. Errors name the column and the option.
/// </summary>
internal static class MaskInputShape
{
    /// <summary>The (height, width, values per row) of <paramref name="columnName"/>.</summary>
    /// <param name="schema">The input schema.</param>
    /// <param name="columnName">The column.</param>
    /// <param name="options">The options, for ImageWidth/ImageHeight.</param>
    /// <param name="perPixel">True when the column must hold exactly one value per pixel (segment ids, masks); false for planar images (any number of H × W planes).</param>
    public static (int Height, int Width, int Size) Resolve(DataViewSchema schema, string columnName, KeepMaskOptions options, bool perPixel)
    {
        var column = schema.GetColumnOrNull(columnName) ?? throw SchemaChecks.NotFound(nameof(schema), columnName);
        if (column.Type is not VectorDataViewType { ItemType: var item } vector || item != NumberDataViewType.Single || vector.Size == 0)
            throw SchemaChecks.Mismatch(nameof(schema), columnName, "known-size vector of Single", $"{column.Type}");
        var dims = vector.Dimensions;
        int height, width;
        if (dims.Length >= 2 && (perPixel ? dims.Length == 2 || dims.Length == 3 && dims[0] == 1 : dims.Length <= 3))
        {
            height = dims[^2];
            width = dims[^1];
            if (options.ImageHeight != 0 && options.ImageHeight != height || options.ImageWidth != 0 && options.ImageWidth != width)
                throw new ArgumentException(
                    $"ImageWidth × ImageHeight is {options.ImageWidth}×{options.ImageHeight} but column '{columnName}' is {vector} ({width}×{height} pixels); set both to 0 to follow the column, or resize the images.",
                    nameof(options));
            return (height, width, vector.Size);
        }
        if (dims.Length >= 2)
            throw SchemaChecks.Mismatch(nameof(schema), columnName,
                perPixel ? "one value per pixel, dimensions [height, width]" : "planar images, dimensions [channels, height, width]", $"{column.Type}");
        if (options.ImageWidth == 0 || options.ImageHeight == 0)
            throw new ArgumentException(
                $"Column '{columnName}' ({column.Type}) has no [height, width] dimensions: set ImageWidth and ImageHeight.", nameof(options));
        height = options.ImageHeight;
        width = options.ImageWidth;
        int pixels = height * width;
        if (perPixel ? vector.Size != pixels : vector.Size % pixels != 0)
            throw SchemaChecks.Mismatch(nameof(schema), columnName,
                perPixel ? $"known-size vector of Single of size {pixels} ({width}×{height})" : $"a whole number of {width}×{height} planes ({pixels} values each)",
                $"{column.Type}");
        return (height, width, vector.Size);
    }
}
