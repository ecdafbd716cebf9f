using Microsoft.ML.Data;

namespace Microsoft.ML.Masking.Core.Batching;

/// <summary>
/// Row-by-row mapping (batch of one) for prediction engines and composite mappers: the kernel runs once per input
/// row position, on the first read of an output value, and its result is reused for the other output columns.
/// </summary>
internal sealed class BatchedRowMapper : IRowToRowMapper
{
    private readonly BatchedTorchTransformer _transformer;
    private readonly BatchSchemaBinding _binding;

    public BatchedRowMapper(BatchedTorchTransformer transformer, BatchSchemaBinding binding)
    {
        _transformer = transformer;
        _binding = binding;
    }

    public DataViewSchema InputSchema => _binding.InputSchema;

    public DataViewSchema OutputSchema => _binding.OutputSchema;

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        ArgumentNullException.ThrowIfNull(dependingColumns);
        var columns = dependingColumns.ToList();
        var needed = new HashSet<int>(_binding.PassThroughInputs(columns).Select(c => c.Index));
        if (_binding.ActiveOutputs(columns).Any(a => a))
            needed.UnionWith(_binding.InputColumns.Select(c => c.Index));
        return needed.Order().Select(i => InputSchema[i]).ToArray();
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(activeColumns);
        if (input.Schema != InputSchema)
            throw new ArgumentException("The row's schema is not the schema this mapper was made for.", nameof(input));
        return new MappedRow(_transformer, _binding, input, _binding.ActiveOutputs(activeColumns));
    }

    private sealed class MappedRow : DataViewRow
    {
        private readonly BatchedTorchTransformer _transformer;
        private readonly BatchSchemaBinding _binding;
        private readonly DataViewRow _input;
        private readonly bool[] _activeOutputs;
        private readonly BatchRowReader? _reader;
        private readonly BatchBuffers? _inputs;
        private readonly BatchBuffers? _outputs;
        private long _computedPosition = -1;

        public MappedRow(BatchedTorchTransformer transformer, BatchSchemaBinding binding, DataViewRow input, bool[] activeOutputs)
        {
            _transformer = transformer;
            _binding = binding;
            _input = input;
            _activeOutputs = activeOutputs;
            if (activeOutputs.Any(a => a))
            {
                _reader = new BatchRowReader(input, binding.Input);
                _inputs = BatchBuffers.ForInputs(binding.Input, capacity: 1);
                _outputs = BatchBuffers.ForOutputs(binding.Outputs, capacity: 1, activeOutputs);
            }
        }

        public override DataViewSchema Schema => _binding.OutputSchema;

        public override long Position => _input.Position;

        public override long Batch => _input.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => _binding.IsColumnActive(column, _input, _activeOutputs);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
            _binding.GetGetter<TValue>(column, _input, _activeOutputs, _outputs, ComputeCurrentRow);

        private int ComputeCurrentRow()
        {
            long position = _input.Position;
            if (position < 0)
                throw new InvalidOperationException("The input row has no current value.");
            if (position != _computedPosition)
            {
                _reader!.Read(_inputs!, 0);
                _inputs!.FirstRow = position;
                _transformer.RunBatch(_inputs!, _outputs!, rowCount: 1);
                _computedPosition = position;
            }
            return 0;
        }
    }
}
