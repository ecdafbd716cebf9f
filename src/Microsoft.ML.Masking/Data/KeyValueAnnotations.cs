using Microsoft.ML.Data;

namespace Microsoft.ML.Masking.Data;

/// <summary>
/// Reads and writes the "KeyValues" annotation through which ML.NET names the values of a key column
/// (the class names of a label), so predicted keys can be mapped back to names.
/// </summary>
internal static class KeyValueAnnotations
{
    /// <summary>ML.NET's annotation kind for the names of a key column's values.</summary>
    public const string Kind = "KeyValues";

    /// <summary>Annotations holding <paramref name="names"/> as the key values of a key column.</summary>
    public static DataViewSchema.Annotations Create(IReadOnlyList<string> names)
    {
        var values = names.Select(n => n.AsMemory()).ToArray();
        var builder = new DataViewSchema.Annotations.Builder();
        builder.Add(Kind, new VectorDataViewType(TextDataViewType.Instance, values.Length),
            (ValueGetter<VBuffer<ReadOnlyMemory<char>>>)((ref VBuffer<ReadOnlyMemory<char>> dst) =>
                dst = new VBuffer<ReadOnlyMemory<char>>(values.Length, (ReadOnlyMemory<char>[])values.Clone())));
        return builder.ToAnnotations();
    }

    /// <summary>The key values of <paramref name="column"/> as strings, or null when it has none.</summary>
    public static string[]? Read(DataViewSchema.Column column)
    {
        if (column.Annotations.Schema.GetColumnOrNull(Kind)?.Type is not VectorDataViewType { ItemType: TextDataViewType })
            return null;
        var values = default(VBuffer<ReadOnlyMemory<char>>);
        column.Annotations.GetValue(Kind, ref values);
        return values.DenseValues().Select(v => v.ToString()).ToArray();
    }
}
