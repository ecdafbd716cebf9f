namespace Microsoft.ML.Masking.Core.Batching;

/// <summary>The buffers of a batch's input or output columns, in the order the transformer declared them.</summary>
internal sealed class BatchBuffers
{
    private readonly BatchColumnBuffer[] _columns;

    private BatchBuffers(BatchColumnBuffer[] columns) => _columns = columns;

    /// <summary>
    /// For input buffers: the data-view position of the batch's first row (rows follow consecutively), so kernels
    /// can seed per-row draws that do not depend on the batch size.
    /// </summary>
    public long FirstRow { get; internal set; }

    /// <summary>Number of columns.</summary>
    public int Count => _columns.Length;

    /// <summary>Column <paramref name="index"/> in declaration order.</summary>
    public BatchColumnBuffer this[int index] => _columns[index];

    /// <summary>The column called <paramref name="name"/>.</summary>
    public BatchColumnBuffer this[string name] =>
        Array.Find(_columns, c => c.Name == name) ?? throw new KeyNotFoundException($"The batch has no column '{name}'.");

    /// <summary>Buffers for the columns of <paramref name="binding"/>: floats shaped like each column's rows, keys for labels.</summary>
    internal static BatchBuffers ForInputs(BatchInputBinding binding, int capacity) =>
        new(binding.Columns.Select(c => new BatchColumnBuffer(c.Name, c.Size, capacity,
            keyCount: c.Spec.Kind == BatchColumnKind.Label ? c.ClassCount : 0, isActive: true, c.RowShape)).ToArray());

    internal static BatchBuffers ForOutputs(IReadOnlyList<BatchOutputColumn> columns, int capacity, IReadOnlyList<bool> active) =>
        new(columns.Select((c, i) => new BatchColumnBuffer(c.Name, c.Size, capacity, c.KeyCount, active[i])).ToArray());
}
