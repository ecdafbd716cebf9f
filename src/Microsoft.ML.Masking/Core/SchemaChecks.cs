using Microsoft.ML.Data;

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

    /// <summary>"Could not find input column 'X'".</summary>
    public static ArgumentOutOfRangeException NotFound(string paramName, string columnName) =>
        new(paramName, $"Could not find input column '{columnName}'");

    /// <summary>"Schema mismatch for input column 'X': expected E, got A".</summary>
    public static ArgumentOutOfRangeException Mismatch(string paramName, string columnName, string expected, string actual) =>
        new(paramName, $"Schema mismatch for input column '{columnName}': expected {expected}, got {actual}");

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
