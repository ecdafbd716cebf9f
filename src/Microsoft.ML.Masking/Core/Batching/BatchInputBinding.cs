using Microsoft.ML.Data;
using Microsoft.ML.Masking.Data;

namespace Microsoft.ML.Masking.Core.Batching;

/// <summary>
/// Checks a set of <see cref="BatchInputColumn"/>s against a schema, the one place where the library's inputs are
/// checked: presence ("Could not find input column 'X'"), type, size and layout ("Schema mismatch for input column
/// 'X': expected …, got …"), as ML.NET words them, thrown as <see cref="ArgumentOutOfRangeException"/>.
/// Image columns are bound first, so per-pixel columns take their size from the image.
/// </summary>
internal sealed class BatchInputBinding
{
    private static readonly DataViewType[] NumericLabelTypes =
        [NumberDataViewType.Single, NumberDataViewType.Double, NumberDataViewType.Int32, NumberDataViewType.UInt32, NumberDataViewType.Int64];

    private BatchInputBinding(BoundInputColumn[] columns, ImageShape? imageShape)
    {
        Columns = columns;
        ImageShape = imageShape;
    }

    /// <summary>The bound columns, in the order they were declared.</summary>
    public IReadOnlyList<BoundInputColumn> Columns { get; }

    /// <summary>The image layout (of the first image column, or given with a per-pixel column), when there is one.</summary>
    public ImageShape? ImageShape { get; }

    /// <summary>The bound column called <paramref name="name"/>.</summary>
    public BoundInputColumn this[string name] =>
        Columns.FirstOrDefault(c => c.Name == name) ?? throw new KeyNotFoundException($"No input column '{name}' was declared.");

    /// <summary>The first column of <paramref name="kind"/>, or null.</summary>
    public BoundInputColumn? First(BatchColumnKind kind) => Columns.FirstOrDefault(c => c.Spec.Kind == kind);

    /// <summary>Binds <paramref name="columns"/> to <paramref name="schema"/>.</summary>
    /// <param name="schema">The input schema.</param>
    /// <param name="columns">What to read.</param>
    /// <param name="paramName">The parameter the exceptions name (ML.NET uses the schema's or the data's).</param>
    /// <param name="dataName">How messages name the data ("validation set"), or null.</param>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type, size or layout.</exception>
    public static BatchInputBinding Bind(DataViewSchema schema, IReadOnlyList<BatchInputColumn> columns, string paramName = "inputSchema", string? dataName = null)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(columns);
        var bound = new BoundInputColumn?[columns.Count];
        ImageShape? imageShape = null;
        for (int i = 0; i < columns.Count; i++)
        {
            var spec = columns[i];
            spec.Validate();
            if (spec.Kind != BatchColumnKind.Image)
                continue;
            var shape = ImageColumnLayout.ResolveImage(schema, spec.Name, spec.Shape, spec.ShapeOption, paramName, dataName);
            var column = schema[spec.Name];
            imageShape ??= shape;
            bound[i] = new BoundInputColumn(spec, column, shape.Size, [shape.Channels, shape.Height, shape.Width], shape);
        }
        for (int i = 0; i < columns.Count; i++)
        {
            if (bound[i] is not null)
                continue;
            var spec = columns[i];
            var column = Find(schema, spec.Name, paramName, dataName);
            bound[i] = spec.Kind switch
            {
                BatchColumnKind.Vector => new BoundInputColumn(spec, SchemaChecks.CheckFloatVector(schema, spec.Name, spec.Size, paramName), spec.Size, [spec.Size]),
                BatchColumnKind.PerPixel => BindPerPixel(spec, schema, column, imageShape ??= spec.Shape, paramName, dataName),
                BatchColumnKind.Label => BindLabel(spec, column, paramName, dataName),
                BatchColumnKind.Weight => BindWeight(spec, column, paramName, dataName),
                _ => throw new InvalidOperationException($"Unknown column kind {spec.Kind}."),
            };
        }
        return new BatchInputBinding(bound!, imageShape);
    }

    private static DataViewSchema.Column Find(DataViewSchema schema, string name, string paramName, string? dataName) =>
        schema.GetColumnOrNull(name) ?? throw SchemaChecks.NotFound(paramName, name, dataName);

    private static BoundInputColumn BindPerPixel(BatchInputColumn spec, DataViewSchema schema, DataViewSchema.Column column, ImageShape? image, string paramName, string? dataName)
    {
        var shape = spec.Shape ?? image
            ?? throw new InvalidOperationException($"Per-pixel column '{spec.Name}' is read without an image column or a shape.");
        SchemaChecks.CheckPixelVector(schema, spec.Name, shape, paramName, dataName);
        return new BoundInputColumn(spec, column, shape.Pixels, [shape.Height, shape.Width], shape);
    }

    private static BoundInputColumn BindLabel(BatchInputColumn spec, DataViewSchema.Column column, string paramName, string? dataName)
    {
        string expected = spec.ClassCount is { } n ? $"Key<UInt32> with {n} values" : "Key<UInt32>";
        if (column.Type is KeyDataViewType { RawType: var raw, Count: var count } && raw == typeof(uint) && count > 0)
        {
            if (spec.ClassCount is { } classes && count != (ulong)classes)
                throw SchemaChecks.Mismatch(paramName, spec.Name, expected, $"{column.Type}", dataName);
            return new BoundInputColumn(spec, column, 1, [], classCount: checked((int)count), isKey: true, classNames: KeyValueAnnotations.Read(column));
        }
        if (!spec.RequireKey && spec.ClassCount is { } known && NumericLabelTypes.Contains(column.Type))
            return new BoundInputColumn(spec, column, 1, [], classCount: known);
        string alternatives = spec.RequireKey || spec.ClassCount is null ? "" : " or a 0-based class number (Single, Double, Int32, UInt32, Int64)";
        throw SchemaChecks.Mismatch(paramName, spec.Name, expected + alternatives,
            $"{column.Type}. Convert labels with mlContext.Transforms.Conversion.MapValueToKey", dataName);
    }

    private static BoundInputColumn BindWeight(BatchInputColumn spec, DataViewSchema.Column column, string paramName, string? dataName)
    {
        if (column.Type != NumberDataViewType.Single)
            throw SchemaChecks.Mismatch(paramName, spec.Name, "Single (an example weight)", $"{column.Type}", dataName);
        return new BoundInputColumn(spec, column, 1, []);
    }
}
