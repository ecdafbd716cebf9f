using Microsoft.ML.Data;

namespace Microsoft.ML.Masking.Core.Batching;

/// <summary>Copies the current row's input vectors from a <see cref="DataViewRow"/> into a slot of the input buffers.</summary>
internal sealed class BatchInputReader
{
    private readonly ValueGetter<VBuffer<float>>[] _getters;
    private readonly BatchSchemaBinding _binding;
    private VBuffer<float> _scratch;

    public BatchInputReader(DataViewRow row, BatchSchemaBinding binding)
    {
        _binding = binding;
        _getters = binding.InputColumns.Select(c => row.GetGetter<VBuffer<float>>(c)).ToArray();
    }

    /// <summary>Reads the current row into row <paramref name="slot"/> of <paramref name="buffers"/>.</summary>
    public void Read(BatchBuffers buffers, int slot)
    {
        for (int i = 0; i < _getters.Length; i++)
        {
            _getters[i](ref _scratch);
            var target = buffers[i].Row(slot);
            // The schema promises the size; a mismatch means a broken upstream transform, so say which column.
            if (_scratch.Length != target.Length)
                throw new InvalidOperationException(
                    $"Input column '{_binding.Inputs[i].Name}' produced a vector of length {_scratch.Length}; its type promises {target.Length}.");
            _scratch.CopyTo(target);
        }
    }
}
