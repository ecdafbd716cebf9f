using Microsoft.ML.Data;

namespace Microsoft.ML.Masking.Core.Batching;

/// <summary>
/// The cursor of a <see cref="BatchedDataView"/>. Two cursors run over the input in lockstep:
/// the <em>follower</em> sits on the current row and serves pass-through columns, position and row id;
/// the <em>leader</em> (only when an output column is active) runs ahead, reading up to a batch of rows of the
/// transformer's input columns into contiguous buffers. The kernel runs once per batch, on the first read of an
/// output value of that batch, so rows whose outputs are never read cost nothing beyond reading their inputs.
/// </summary>
internal sealed class BatchedRowCursor : DataViewRowCursor
{
    private readonly BatchedTorchTransformer _transformer;
    private readonly BatchSchemaBinding _binding;
    private readonly DataViewRowCursor _follower;
    private readonly DataViewRowCursor? _leader;
    private readonly BatchRowReader? _reader;
    private readonly BatchBuffers? _inputs;
    private readonly BatchBuffers? _outputs;
    private readonly bool[] _activeOutputs;
    private int _rowsInBatch;
    private int _slot = -1;
    private bool _batchComputed;
    private bool _done;

    public BatchedRowCursor(BatchedTorchTransformer transformer, BatchSchemaBinding binding, IDataView input, IEnumerable<DataViewSchema.Column> columnsNeeded)
    {
        _transformer = transformer;
        _binding = binding;
        var needed = columnsNeeded.ToList();
        _activeOutputs = binding.ActiveOutputs(needed);
        _follower = input.GetRowCursor(binding.PassThroughInputs(needed).Distinct());
        if (_activeOutputs.Any(a => a))
        {
            _leader = input.GetRowCursor(binding.InputColumns);
            _reader = new BatchRowReader(_leader, binding.Input);
            _inputs = BatchBuffers.ForInputs(binding.Input, transformer.BatchSize);
            _outputs = BatchBuffers.ForOutputs(binding.Outputs, transformer.BatchSize, _activeOutputs);
        }
    }

    public override DataViewSchema Schema => _binding.OutputSchema;

    public override long Position => _follower.Position;

    public override long Batch => _follower.Batch;

    public override ValueGetter<DataViewRowId> GetIdGetter() => _follower.GetIdGetter();

    public override bool IsColumnActive(DataViewSchema.Column column) => _binding.IsColumnActive(column, _follower, _activeOutputs);

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
        _binding.GetGetter<TValue>(column, _follower, _activeOutputs, _outputs, CurrentSlot);

    public override bool MoveNext()
    {
        if (_done)
            return false;
        if (!_follower.MoveNext())
        {
            _done = true;
            return false;
        }
        if (_leader is not null && ++_slot >= _rowsInBatch)
            ReadNextBatch();
        return true;
    }

    private void ReadNextBatch()
    {
        _rowsInBatch = 0;
        _slot = 0;
        _batchComputed = false;
        while (_rowsInBatch < _transformer.BatchSize && _leader!.MoveNext())
        {
            if (_rowsInBatch == 0)
                _inputs!.FirstRow = _leader.Position;
            _reader!.Read(_inputs!, _rowsInBatch++);
        }
        if (_rowsInBatch == 0)
            throw new InvalidOperationException("The input data view returned fewer rows to a second cursor than to the first; batched transforms need a deterministic input.");
    }

    private int CurrentSlot()
    {
        if (_done || _follower.Position < 0)
            throw new InvalidOperationException("No current row: call MoveNext and check that it returned true before reading values.");
        if (!_batchComputed)
        {
            _transformer.RunBatch(_inputs!, _outputs!, _rowsInBatch);
            _batchComputed = true;
        }
        return _slot;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _leader?.Dispose();
            _follower.Dispose();
        }
        base.Dispose(disposing);
    }
}
