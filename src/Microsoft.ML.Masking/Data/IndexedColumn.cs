using Microsoft.ML.Data;

namespace Microsoft.ML.Masking.Data;

/// <summary>
/// One column of an <see cref="IndexedDataView{TRow}"/>: its name, type, annotations, and how its value is read
/// from the row object the view fetched for the cursor's current position.
/// </summary>
/// <typeparam name="TRow">The row object the view's fetch function produces.</typeparam>
internal abstract class IndexedColumn<TRow>
{
    private IndexedColumn(string name, DataViewType type, DataViewSchema.Annotations? annotations)
    {
        Name = name;
        Type = type;
        Annotations = annotations;
    }

    public string Name { get; }

    public DataViewType Type { get; }

    public DataViewSchema.Annotations? Annotations { get; }

    /// <summary>A getter that reads this column from the row returned by <paramref name="currentRow"/>.</summary>
    public abstract Delegate CreateGetter(Func<TRow> currentRow);

    /// <summary>A known-size float vector column filled by <paramref name="fill"/> (which writes every slot).</summary>
    public static IndexedColumn<TRow> FloatVector(string name, int size, Action<TRow, Span<float>> fill) =>
        new FloatVectorColumn(name, size, fill);

    /// <summary>
    /// A key column over <paramref name="classNames"/> (key-value annotations); <paramref name="classIndex"/>
    /// gives the zero-based class, stored as the one-based key ML.NET uses (0 means missing).
    /// </summary>
    public static IndexedColumn<TRow> ClassKey(string name, IReadOnlyList<string> classNames, Func<TRow, int> classIndex) =>
        new ClassKeyColumn(name, classNames, classIndex);

    /// <summary>A text column.</summary>
    public static IndexedColumn<TRow> Text(string name, Func<TRow, string> text) => new TextColumn(name, text);

    private sealed class FloatVectorColumn(string name, int size, Action<TRow, Span<float>> fill)
        : IndexedColumn<TRow>(name, new VectorDataViewType(NumberDataViewType.Single, size), null)
    {
        public override Delegate CreateGetter(Func<TRow> currentRow) =>
            (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
            {
                var editor = VBufferEditor.Create(ref value, size);
                fill(currentRow(), editor.Values);
                value = editor.Commit();
            });
    }

    private sealed class ClassKeyColumn(string name, IReadOnlyList<string> classNames, Func<TRow, int> classIndex)
        : IndexedColumn<TRow>(name, new KeyDataViewType(typeof(uint), classNames.Count), KeyValueAnnotations.Create(classNames))
    {
        public override Delegate CreateGetter(Func<TRow> currentRow) =>
            (ValueGetter<uint>)((ref uint value) => value = (uint)classIndex(currentRow()) + 1);
    }

    private sealed class TextColumn(string name, Func<TRow, string> text)
        : IndexedColumn<TRow>(name, TextDataViewType.Instance, null)
    {
        public override Delegate CreateGetter(Func<TRow> currentRow) =>
            (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) => value = text(currentRow()).AsMemory());
    }
}
