namespace Microsoft.ML.Masking.Core.Batching;

/// <summary>
/// The lazy result of <see cref="BatchedTorchTransformer.Transform"/>: nothing runs until a cursor moves.
/// Row count and order are the input's; shuffling is not offered (a batched network wants sequential rows).
/// </summary>
internal sealed class BatchedDataView : IDataView
{
    private readonly BatchedTorchTransformer _transformer;
    private readonly IDataView _input;
    private readonly BatchSchemaBinding _binding;

    public BatchedDataView(BatchedTorchTransformer transformer, IDataView input, BatchSchemaBinding binding)
    {
        _transformer = transformer;
        _input = input;
        _binding = binding;
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema => _binding.OutputSchema;

    public long? GetRowCount() => _input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        return new BatchedRowCursor(_transformer, _binding, _input, columnsNeeded);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];
}
