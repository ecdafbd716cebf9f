using Microsoft.ML.Data;

namespace Microsoft.ML.Masking.Core.Batching;

/// <summary>
/// Copies the current row of a <see cref="DataViewRow"/> into a slot of the input buffers, checking each value as
/// the column's <see cref="BatchValueRules"/> ask, and labels against their class count. Every error names the
/// column and the row ("Column 'X', row N: …"). One instance per row or cursor (it keeps getters and scratch space).
/// </summary>
internal sealed class BatchRowReader
{
    private readonly BatchInputBinding _binding;
    private readonly DataViewRow _row;
    private readonly Delegate[] _getters;
    private readonly string? _dataName;
    private readonly DataViewSchema.Column? _source;
    private readonly ValueGetter<ReadOnlyMemory<char>>? _sourceGetter;
    private VBuffer<float> _scratch;

    /// <param name="row">The row or cursor to read.</param>
    /// <param name="binding">The columns.</param>
    /// <param name="dataName">How errors name the data, or null.</param>
    /// <param name="source">A text column that names where a row came from (e.g. LoadImageFolder's ImagePath), quoted in errors; it must be active in <paramref name="row"/>.</param>
    public BatchRowReader(DataViewRow row, BatchInputBinding binding, string? dataName = null, DataViewSchema.Column? source = null)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(binding);
        _row = row;
        _binding = binding;
        _dataName = dataName;
        _getters = binding.Columns.Select(CreateGetter).ToArray();
        _source = source;
        _sourceGetter = source is { } s ? row.GetGetter<ReadOnlyMemory<char>>(s) : null;
    }

    /// <summary>Reads the current row into row <paramref name="slot"/> of <paramref name="buffers"/> (made by <see cref="BatchBuffers.ForInputs"/> for the same binding).</summary>
    /// <exception cref="InvalidOperationException">A value breaks its column's rules; the message names the column and the row.</exception>
    public void Read(BatchBuffers buffers, int slot)
    {
        for (int i = 0; i < _getters.Length; i++)
        {
            var column = _binding.Columns[i];
            var target = buffers[i];
            switch (column.Spec.Kind)
            {
                case BatchColumnKind.Label:
                    target.Keys[slot] = ReadLabel(column, _getters[i]);
                    break;
                case BatchColumnKind.Weight:
                    float weight = 0;
                    ((ValueGetter<float>)_getters[i])(ref weight);
                    if (!float.IsFinite(weight) || weight < 0)
                        throw Bad(column, FormattableString.Invariant($"the example weight is {weight}; weights must be finite and not negative."));
                    target.Values[slot] = weight;
                    break;
                default:
                    ReadVector(column, (ValueGetter<VBuffer<float>>)_getters[i], target.Row(slot));
                    break;
            }
        }
    }

    private Delegate CreateGetter(BoundInputColumn column)
    {
        if (column.Spec.Kind == BatchColumnKind.Weight)
            return _row.GetGetter<float>(column.Column);
        if (column.Spec.Kind != BatchColumnKind.Label)
            return _row.GetGetter<VBuffer<float>>(column.Column);
        if (column.IsKey)
            return _row.GetGetter<uint>(column.Column);
        var type = column.Column.Type;
        if (type == NumberDataViewType.Single) return Widen<float>(column, v => v);
        if (type == NumberDataViewType.Double) return Widen<double>(column, v => v);
        if (type == NumberDataViewType.Int32) return Widen<int>(column, v => v);
        if (type == NumberDataViewType.UInt32) return Widen<uint>(column, v => v);
        return Widen<long>(column, v => v);
    }

    private Func<double> Widen<T>(BoundInputColumn column, Func<T, double> widen)
    {
        var getter = _row.GetGetter<T>(column.Column);
        T value = default!;
        return () => { getter(ref value); return widen(value); };
    }

    private uint ReadLabel(BoundInputColumn column, Delegate getter)
    {
        if (column.IsKey)
        {
            uint key = 0;
            ((ValueGetter<uint>)getter)(ref key);
            if (key == 0)
                throw Bad(column, "the label is missing (key value 0; ML.NET also stores values outside the key's range as missing when it makes the key). " +
                    "Filter such rows out first.");
            if (key > column.ClassCount)
                throw Bad(column, $"holds key {key}, outside its key type's range 1..{column.ClassCount}.");
            return key;
        }
        double value = ((Func<double>)getter)();
        if (!(value >= 0 && value < column.ClassCount && value == Math.Floor(value)))
            throw Bad(column, FormattableString.Invariant($"the label is {value}; a class number must be a whole number from 0 to {column.ClassCount - 1}."));
        return (uint)value + 1;
    }

    private void ReadVector(BoundInputColumn column, ValueGetter<VBuffer<float>> getter, Span<float> target)
    {
        getter(ref _scratch);
        // The schema promises the size; a mismatch means a broken upstream transform, so say which column.
        if (_scratch.Length != target.Length)
            throw Bad(column, $"a vector of length {_scratch.Length}; its type promises {target.Length}.");
        _scratch.CopyTo(target);
        var rules = column.Spec.Rules;
        if (rules == BatchValueRules.None)
            return;
        for (int i = 0; i < target.Length; i++)
        {
            float v = target[i];
            if ((rules & BatchValueRules.Finite) != 0 && !float.IsFinite(v))
                throw Bad(column, FormattableString.Invariant($"holds a non-finite value ({v}) at index {i}; {column.Spec.ValueName} must be finite numbers."));
            if ((rules & BatchValueRules.Binary) != 0 && v != 0 && v != 1)
                throw Bad(column, FormattableString.Invariant($"{column.Spec.ValueName} must hold only 0 and 1; found {v} at index {i}."));
            if ((rules & BatchValueRules.WholeNonNegative) != 0 && !(v >= 0 && v == MathF.Floor(v)))
                throw Bad(column, FormattableString.Invariant($"{column.Spec.ValueName} must be non-negative whole numbers; found {v} at index {i}."));
        }
    }

    private InvalidOperationException Bad(BoundInputColumn column, string message)
    {
        string? source = null;
        if (_sourceGetter is not null)
        {
            ReadOnlyMemory<char> value = default;
            _sourceGetter(ref value);
            source = $"{_source!.Value.Name} '{value}'";
        }
        return SchemaChecks.BadValue(column.Name, _row.Position, message, _dataName, source);
    }
}
