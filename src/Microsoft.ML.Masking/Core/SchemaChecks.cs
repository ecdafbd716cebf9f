using Microsoft.ML.Data;
using Microsoft.ML.Masking.Data;

namespace Microsoft.ML.Masking.Core;

/// <summary>
/// Input-column checks shared by estimators (on a <see cref="SchemaShape"/>, where vector sizes are unknown) and
/// transformers (on a <see cref="DataViewSchema"/>, where sizes are known). Messages follow ML.NET's wording:
/// "Could not find input column 'X'" and "Schema mismatch for input column 'X': expected …, got …",
/// thrown as <see cref="ArgumentOutOfRangeException"/> on the schema parameter, as ML.NET does.
/// </summary>
internal static class SchemaChecks
{
    /// <summary>
    /// Estimator side: checks that <paramref name="columnName"/> exists and is a known-size vector of
    /// <see cref="float"/>; returns it.
    /// </summary>
    public static SchemaShape.Column CheckFloatVector(SchemaShape inputSchema, string columnName, string paramName = "inputSchema")
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        if (!inputSchema.TryFindColumn(columnName, out var column))
            throw NotFound(paramName, columnName);
        if (column.Kind != SchemaShape.Column.VectorKind.Vector || column.ItemType != NumberDataViewType.Single)
            throw Mismatch(paramName, columnName, "known-size vector of Single", Describe(column));
        return column;
    }

    /// <summary>
    /// Transformer side: checks that <paramref name="columnName"/> exists and is a vector of <see cref="float"/>
    /// with exactly <paramref name="size"/> values; returns it.
    /// </summary>
    public static DataViewSchema.Column CheckFloatVector(DataViewSchema inputSchema, string columnName, int size, string paramName = "inputSchema")
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var column = inputSchema.GetColumnOrNull(columnName) ?? throw NotFound(paramName, columnName);
        if (column.Type is not VectorDataViewType { ItemType: var item, Size: var actual } || item != NumberDataViewType.Single || actual != size)
            throw Mismatch(paramName, columnName, $"known-size vector of Single of size {size}", $"{column.Type}");
        return column;
    }

    /// <summary>
    /// Transformer side: checks that <paramref name="columnName"/> holds images of <paramref name="shape"/>: a
    /// vector of <see cref="float"/> of its size whose dimensions, where the column has them (ExtractPixels sets
    /// [C, H, W]), are planar C, H, W. Interleaved pixels ([H, W, C]) and swapped width and height are named as such.
    /// </summary>
    public static DataViewSchema.Column CheckImageVector(DataViewSchema inputSchema, string columnName, ImageShape shape, string paramName = "inputSchema", string? dataName = null)
    {
        string expected = $"Vector<Single, {shape.Channels}, {shape.Height}, {shape.Width}> (planar channels × height × width)";
        var column = CheckFloatVectorType(inputSchema, columnName, shape.Size, expected, paramName, dataName);
        var dims = ((VectorDataViewType)column.Type).Dimensions;
        if (dims.Length < 2 || dims.SequenceEqual([shape.Channels, shape.Height, shape.Width]) || (dims.Length == 2 && shape.Channels == 1 && dims.SequenceEqual([shape.Height, shape.Width])))
            return column;
        string hint = dims.Length == 3 && dims.SequenceEqual([shape.Height, shape.Width, shape.Channels])
            ? InterleavedHint
            : dims.Length == 3 && dims.SequenceEqual([shape.Channels, shape.Width, shape.Height])
                ? $" Width and height are swapped: the images are {dims[2]} wide and {dims[1]} high, the classifier reads {shape.Width} wide and {shape.Height} high."
                : "";
        throw new ArgumentOutOfRangeException(paramName, $"Schema mismatch for input column '{columnName}'{In(dataName)}: expected {expected}, got {column.Type}.{hint}");
    }

    /// <summary>The hint appended to a schema mismatch when a column's dimensions are [H, W, C].</summary>
    public const string InterleavedHint =
        " The pixels are interleaved (height × width × channels): extract them planar (ExtractPixels with interleavePixelColors: false, the default).";

    /// <summary>
    /// Transformer side: checks that <paramref name="columnName"/> holds one <see cref="float"/> per pixel of
    /// <paramref name="shape"/> (height × width, row-major), with dimensions [H, W] or [1, H, W] where it has them.
    /// </summary>
    public static DataViewSchema.Column CheckPixelVector(DataViewSchema inputSchema, string columnName, ImageShape shape, string paramName = "inputSchema", string? dataName = null)
    {
        string expected = $"Vector<Single, {shape.Height}, {shape.Width}> (one value per pixel, row-major)";
        var column = CheckFloatVectorType(inputSchema, columnName, shape.Pixels, expected, paramName, dataName);
        var dims = ((VectorDataViewType)column.Type).Dimensions;
        if (dims.Length < 2 || dims.SequenceEqual([shape.Height, shape.Width]) || dims.SequenceEqual([1, shape.Height, shape.Width]))
            return column;
        string hint = dims[^2] == shape.Width && dims[^1] == shape.Height
            ? $" Width and height are swapped: the column is {dims[^1]} wide and {dims[^2]} high, the classifier reads {shape.Width} wide and {shape.Height} high."
            : "";
        throw new ArgumentOutOfRangeException(paramName, $"Schema mismatch for input column '{columnName}'{In(dataName)}: expected {expected}, got {column.Type}.{hint}");
    }

    private static DataViewSchema.Column CheckFloatVectorType(DataViewSchema inputSchema, string columnName, int size, string expected, string paramName, string? dataName)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var column = inputSchema.GetColumnOrNull(columnName) ?? throw NotFound(paramName, columnName, dataName);
        if (column.Type is not VectorDataViewType { ItemType: var item, Size: var actual } || item != NumberDataViewType.Single || actual != size)
            throw Mismatch(paramName, columnName, $"{expected}, {size} values", $"{column.Type}", dataName);
        return column;
    }

    /// <summary>Checks that <paramref name="columnName"/> exists and is a scalar <see cref="float"/> (estimator side).</summary>
    public static SchemaShape.Column CheckFloat(SchemaShape inputSchema, string columnName, string paramName = "inputSchema")
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        if (!inputSchema.TryFindColumn(columnName, out var column))
            throw NotFound(paramName, columnName);
        if (column.Kind != SchemaShape.Column.VectorKind.Scalar || column.ItemType != NumberDataViewType.Single)
            throw Mismatch(paramName, columnName, "Single", Describe(column));
        return column;
    }

    /// <summary>Checks that <paramref name="columnName"/> exists and is a scalar key, as classification labels are (estimator side).</summary>
    public static SchemaShape.Column CheckKey(SchemaShape inputSchema, string columnName, string paramName = "inputSchema")
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        if (!inputSchema.TryFindColumn(columnName, out var column))
            throw NotFound(paramName, columnName);
        if (!column.IsKey || column.Kind != SchemaShape.Column.VectorKind.Scalar)
            throw Mismatch(paramName, columnName, "Key<UInt32>", Describe(column));
        return column;
    }

    /// <summary>"Could not find input column 'X'" (followed by " in the D" when <paramref name="dataName"/> is given).</summary>
    public static ArgumentOutOfRangeException NotFound(string paramName, string columnName, string? dataName = null) =>
        new(paramName, $"Could not find input column '{columnName}'{In(dataName)}");

    /// <summary>"Schema mismatch for input column 'X': expected E, got A" ("… column 'X' in the D: …" with <paramref name="dataName"/>).</summary>
    public static ArgumentOutOfRangeException Mismatch(string paramName, string columnName, string expected, string actual, string? dataName = null) =>
        new(paramName, $"Schema mismatch for input column '{columnName}'{In(dataName)}: expected {expected}, got {actual}");

    /// <summary>
    /// "Column 'X', row N: M" ("Column 'X' in the D, row N (S): M" with <paramref name="dataName"/> and
    /// <paramref name="source"/>, e.g. "ImagePath '/data/cat/1.png'"): the one wording of an error in a row's value.
    /// </summary>
    public static InvalidOperationException BadValue(string columnName, long row, string message, string? dataName = null, string? source = null) =>
        new($"Column '{columnName}'{In(dataName)}, row {row}{(source is null ? "" : $" ({source})")}: {message}");

    private static string In(string? dataName) => dataName is null ? "" : $" in the {dataName}";

    /// <summary>Describes a schema-shape column the way ML.NET prints types ("Vector&lt;Single&gt;", "Single", "Key&lt;UInt32&gt;").</summary>
    public static string Describe(SchemaShape.Column column)
    {
        string item = column.IsKey ? $"Key<{column.ItemType.RawType.Name}>" : $"{column.ItemType}";
        return column.Kind switch
        {
            SchemaShape.Column.VectorKind.Scalar => item,
            SchemaShape.Column.VectorKind.Vector => $"Vector<{item}> of known size",
            _ => $"Vector<{item}> of unknown size",
        };
    }
}
