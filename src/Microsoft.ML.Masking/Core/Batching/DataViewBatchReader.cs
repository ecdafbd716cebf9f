using Microsoft.ML.Data;
using Microsoft.ML.Masking.Data;

namespace Microsoft.ML.Masking.Core.Batching;

/// <summary>
/// The library's one IDataView → batch reader, for trainers and evaluators (transforms use the same binding and row
/// reader through <see cref="BatchedTorchTransformer"/>): checks the declared columns against the schema when
/// created (<see cref="BatchInputBinding"/>: ML.NET's wording, naming the column), then streams the rows in order,
/// a batch at a time, checking every value as it is read (<see cref="BatchRowReader"/>: naming the column and row).
/// Nothing but the current batch is held in memory.
/// </summary>
internal sealed class DataViewBatchReader
{
    /// <summary>The column whose text, when the data has it, names a row's file in errors (LoadImageFolder's default).</summary>
    public const string ImagePathColumnName = "ImagePath";

    private readonly IDataView _data;
    private readonly string? _dataName;

    /// <summary>Binds <paramref name="columns"/> to <paramref name="data"/>'s schema.</summary>
    /// <param name="data">The rows.</param>
    /// <param name="columns">What to read.</param>
    /// <param name="paramName">The parameter schema errors name.</param>
    /// <param name="dataName">How errors name the data ("training data", "validation set"), or null.</param>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type, size or layout.</exception>
    public DataViewBatchReader(IDataView data, IReadOnlyList<BatchInputColumn> columns, string paramName = "data", string? dataName = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        _data = data;
        _dataName = dataName;
        Binding = BatchInputBinding.Bind(data.Schema, columns, paramName, dataName);
    }

    /// <summary>The bound columns: image shape, class count and names, row shapes.</summary>
    public BatchInputBinding Binding { get; }

    /// <summary>The image layout of the read (its first image column, or a per-pixel column's shape).</summary>
    public ImageShape ImageShape => Binding.ImageShape ?? throw new InvalidOperationException("This read has no image column.");

    /// <summary>How errors name the data, or null.</summary>
    public string? DataName => _dataName;

    /// <summary>Rows in the data (counted with a cursor that reads no column when the view does not know).</summary>
    public long CountRows()
    {
        if (_data.GetRowCount() is long known)
            return known;
        long count = 0;
        using var cursor = _data.GetRowCursor([]);
        while (cursor.MoveNext())
            count++;
        return count;
    }

    /// <summary>
    /// The rows in order, <paramref name="batchSize"/> at a time (the last batch may be shorter). The same
    /// <see cref="DataViewBatch"/> instance and buffers are returned each time, refilled.
    /// </summary>
    /// <exception cref="InvalidOperationException">A value breaks its column's rules (named with its row).</exception>
    public IEnumerable<DataViewBatch> Batches(int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        // Rows that came from files (LoadImageFolder's ImagePath) are named by their file in errors too.
        var source = _data.Schema.GetColumnOrNull(ImagePathColumnName) is { Type: TextDataViewType } path ? path : (DataViewSchema.Column?)null;
        var active = Binding.Columns.Select(c => c.Column).Append(source ?? Binding.Columns[0].Column).Distinct();
        using var cursor = _data.GetRowCursor(active);
        var reader = new BatchRowReader(cursor, Binding, _dataName, source);
        var batch = new DataViewBatch(Binding, BatchBuffers.ForInputs(Binding, batchSize));
        long row = 0;
        while (true)
        {
            int count = 0;
            while (count < batchSize && cursor.MoveNext())
                reader.Read(batch.Columns, count++);
            if (count == 0)
                yield break;
            batch.FirstRow = row;
            batch.Count = count;
            row += count;
            yield return batch;
            if (count < batchSize)
                yield break;
        }
    }
}
