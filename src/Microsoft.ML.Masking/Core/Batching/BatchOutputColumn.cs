using Microsoft.ML.Data;

namespace Microsoft.ML.Masking.Core.Batching;

/// <summary>An output column of a batched transformer: its name, value type and annotations.</summary>
internal sealed class BatchOutputColumn
{
    private BatchOutputColumn(string name, BatchOutputKind kind, int size, IReadOnlyList<string>? names, IReadOnlyList<int>? dimensions = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (size < 1)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"Output column '{name}' needs a positive size.");
        if (names is not null && names.Count != size && kind != BatchOutputKind.Key)
            throw new ArgumentException($"Output column '{name}' has {size} slots but {names.Count} slot names.", nameof(names));
        Name = name;
        Kind = kind;
        Size = size;
        Names = names?.ToArray();
        if (dimensions is not null && (dimensions.Any(d => d < 1) || dimensions.Aggregate(1L, (p, d) => p * d) != size))
            throw new ArgumentException($"Output column '{name}' has {size} slots but dimensions [{string.Join(", ", dimensions)}].", nameof(dimensions));
        Dimensions = dimensions?.ToArray();
    }

    /// <summary>A known-size vector of <see cref="float"/>.</summary>
    /// <param name="name">Column name.</param>
    /// <param name="size">Vector length.</param>
    /// <param name="slotNames">Optional SlotNames annotation (one name per slot), e.g. class names for a Score column.</param>
    /// <param name="dimensions">Optional <see cref="VectorDataViewType.Dimensions"/> (e.g. [H, W] for a mask); their product must be <paramref name="size"/>.</param>
    public static BatchOutputColumn FloatVector(string name, int size, IReadOnlyList<string>? slotNames = null, IReadOnlyList<int>? dimensions = null) =>
        new(name, BatchOutputKind.FloatVector, size, slotNames, dimensions);

    /// <summary>A single <see cref="float"/> per row.</summary>
    public static BatchOutputColumn Float(string name) => new(name, BatchOutputKind.Float, 1, null);

    /// <summary>A <see cref="uint"/> key per row whose values are named by <paramref name="keyValues"/> (KeyValues annotation).</summary>
    public static BatchOutputColumn Key(string name, IReadOnlyList<string> keyValues)
    {
        ArgumentNullException.ThrowIfNull(keyValues);
        if (keyValues.Count == 0)
            throw new ArgumentException($"Key column '{name}' needs at least one key value.", nameof(keyValues));
        var column = new BatchOutputColumn(name, BatchOutputKind.Key, 1, keyValues);
        column.KeyCount = keyValues.Count;
        return column;
    }

    /// <summary>Column name.</summary>
    public string Name { get; }

    /// <summary>Value type.</summary>
    public BatchOutputKind Kind { get; }

    /// <summary>Values per row: vector length, or 1 for scalars and keys.</summary>
    public int Size { get; }

    /// <summary>Number of key values (only for <see cref="BatchOutputKind.Key"/>).</summary>
    public int KeyCount { get; private set; }

    /// <summary>Slot names (vectors) or key values (keys); null when not annotated.</summary>
    public IReadOnlyList<string>? Names { get; }

    /// <summary>The vector's dimensions, or null for a plain vector of <see cref="Size"/> values.</summary>
    public IReadOnlyList<int>? Dimensions { get; }

    /// <summary>The ML.NET type of the column.</summary>
    public DataViewType Type => Kind switch
    {
        BatchOutputKind.FloatVector => Dimensions is { } dims
            ? new VectorDataViewType(NumberDataViewType.Single, dims.ToArray())
            : new VectorDataViewType(NumberDataViewType.Single, Size),
        BatchOutputKind.Float => NumberDataViewType.Single,
        BatchOutputKind.Key => new KeyDataViewType(typeof(uint), KeyCount),
        _ => throw new InvalidOperationException($"Unknown output kind {Kind}."),
    };

    /// <summary>The SlotNames or KeyValues annotation, or none.</summary>
    public DataViewSchema.Annotations BuildAnnotations()
    {
        var builder = new DataViewSchema.Annotations.Builder();
        if (Names is { } names)
        {
            ValueGetter<VBuffer<ReadOnlyMemory<char>>> getter = (ref VBuffer<ReadOnlyMemory<char>> value) =>
            {
                var editor = VBufferEditor.Create(ref value, names.Count);
                for (int i = 0; i < names.Count; i++)
                    editor.Values[i] = names[i].AsMemory();
                value = editor.Commit();
            };
            if (Kind == BatchOutputKind.Key)
                builder.AddKeyValues(names.Count, TextDataViewType.Instance, getter);
            else
                builder.AddSlotNames(names.Count, getter);
        }
        return builder.ToAnnotations();
    }
}
