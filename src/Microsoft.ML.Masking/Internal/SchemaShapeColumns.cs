using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core.Batching;

namespace Microsoft.ML.Masking.Internal;

/// <summary>
/// Builds <see cref="SchemaShape.Column"/>s for estimators' <c>GetOutputSchema(SchemaShape)</c>. ML.NET keeps the
/// constructor of <see cref="SchemaShape.Column"/> internal, so an estimator outside ML.NET cannot describe its
/// output columns without it.
/// </summary>
internal static class SchemaShapeColumns
{
    private static readonly SchemaShape SlotNames = new([
        new SchemaShape.Column(AnnotationUtils.Kinds.SlotNames, SchemaShape.Column.VectorKind.Vector, TextDataViewType.Instance, isKey: false)]);

    private static readonly SchemaShape KeyValues = new([
        new SchemaShape.Column(AnnotationUtils.Kinds.KeyValues, SchemaShape.Column.VectorKind.Vector, TextDataViewType.Instance, isKey: false)]);

    /// <summary>A known-size vector of <see cref="float"/>, optionally annotated with slot names.</summary>
    public static SchemaShape.Column FloatVector(string name, bool hasSlotNames = false) =>
        new(name, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, isKey: false, hasSlotNames ? SlotNames : null);

    /// <summary>A scalar <see cref="float"/>.</summary>
    public static SchemaShape.Column Float(string name) =>
        new(name, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, isKey: false);

    /// <summary>A <see cref="uint"/> key with key values (e.g. PredictedLabel).</summary>
    public static SchemaShape.Column Key(string name) =>
        new(name, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, isKey: true, KeyValues);

    /// <summary>The schema-shape column of a batched transformer's output column.</summary>
    public static SchemaShape.Column For(BatchOutputColumn column) => column.Kind switch
    {
        BatchOutputKind.FloatVector => FloatVector(column.Name, column.Names is not null),
        BatchOutputKind.Float => Float(column.Name),
        BatchOutputKind.Key => Key(column.Name),
        _ => throw new InvalidOperationException($"Unknown output kind {column.Kind}."),
    };

    /// <summary>
    /// The estimator output schema: every input column, with <paramref name="outputs"/> added (replacing input
    /// columns of the same name, as ML.NET hides them).
    /// </summary>
    public static SchemaShape Append(SchemaShape inputSchema, IEnumerable<SchemaShape.Column> outputs)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var columns = inputSchema.ToDictionary(c => c.Name);
        foreach (var column in outputs)
            columns[column.Name] = column;
        return new SchemaShape(columns.Values);
    }
}
