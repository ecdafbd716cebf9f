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
        new FloatVectorColumn(name, new VectorDataViewType(NumberDataViewType.Single, size), fill);

    /// <summary>
    /// A float vector column with <paramref name="dimensions"/> (e.g. [C, H, W] for planar images, as ExtractPixels
    /// declares them, or [H, W] for per-pixel values), filled by <paramref name="fill"/> (which writes every slot).
    /// </summary>
    public static IndexedColumn<TRow> FloatTensor(string name, int[] dimensions, Action<TRow, Span<float>> fill) =>
        new FloatVectorColumn(name, new VectorDataViewType(NumberDataViewType.Single, dimensions), fill);

    /// <summary>
    /// A key column over <paramref name="classNames"/> (key-value annotations); <paramref name="classIndex"/>
    /// gives the zero-based class, stored as the one-based key ML.NET uses (0 means missing).
    /// </summary>
    public static IndexedColumn<TRow> ClassKey(string name, IReadOnlyList<string> classNames, Func<TRow, int> classIndex) =>
        new ClassKeyColumn(name, classNames, classIndex);

    /// <summary>A scalar float column (e.g. an example weight).</summary>
    public static IndexedColumn<TRow> Float(string name, Func<TRow, float> value) => new FloatColumn(name, value);

    /// <summary>A text column.</summary>
    public static IndexedColumn<TRow> Text(string name, Func<TRow, string> text) => new TextColumn(name, text);

    private sealed class FloatVectorColumn(string name, VectorDataViewType type, Action<TRow, Span<float>> fill)
        : IndexedColumn<TRow>(name, type, null)
    {
        private readonly int _size = type.Size;

        public override Delegate CreateGetter(Func<TRow> currentRow) =>
            (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
            {
                var editor = VBufferEditor.Create(ref value, _size);
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

    private sealed class FloatColumn(string name, Func<TRow, float> read)
        : IndexedColumn<TRow>(name, NumberDataViewType.Single, null)
    {
        public override Delegate CreateGetter(Func<TRow> currentRow) =>
            (ValueGetter<float>)((ref float value) => value = read(currentRow()));
    }

    private sealed class TextColumn(string name, Func<TRow, string> text)
        : IndexedColumn<TRow>(name, TextDataViewType.Instance, null)
    {
        public override Delegate CreateGetter(Func<TRow> currentRow) =>
            (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) => value = text(currentRow()).AsMemory());
    }
}
