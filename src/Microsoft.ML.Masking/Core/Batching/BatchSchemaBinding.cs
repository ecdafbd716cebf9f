namespace Microsoft.ML.Masking.Core.Batching;

/// <summary>
/// A batched transformer bound to one input schema: the checked input columns and the output schema. The output
/// schema is every input column (same index) followed by the transformer's output columns, so an output column
/// index below <see cref="InputColumnCount"/> is a pass-through of the input column with that index.
/// </summary>
internal sealed class BatchSchemaBinding
{
    public BatchSchemaBinding(DataViewSchema inputSchema, IReadOnlyList<BatchInputColumn> inputs, IReadOnlyList<BatchOutputColumn> outputs)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        InputSchema = inputSchema;
        Inputs = inputs;
        Outputs = outputs;
        Input = BatchInputBinding.Bind(inputSchema, inputs);
        InputColumns = Input.Columns.Select(c => c.Column).ToArray();
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        foreach (var output in outputs)
            builder.AddColumn(output.Name, output.Type, output.BuildAnnotations());
        OutputSchema = builder.ToSchema();
    }

    public DataViewSchema InputSchema { get; }

    public DataViewSchema OutputSchema { get; }

    public IReadOnlyList<BatchInputColumn> Inputs { get; }

    /// <summary>The input columns checked against <see cref="InputSchema"/> (sizes and layouts found there).</summary>
    public BatchInputBinding Input { get; }

    public IReadOnlyList<BatchOutputColumn> Outputs { get; }

    /// <summary>The input-schema columns the transformer reads, in declaration order.</summary>
    public DataViewSchema.Column[] InputColumns { get; }

    public int InputColumnCount => InputSchema.Count;

    /// <summary>True when output column <paramref name="outputIndex"/> is an input column passed through.</summary>
    public bool IsPassThrough(int outputIndex) => outputIndex < InputColumnCount;

    /// <summary>For each declared output column, whether one of <paramref name="columns"/> (output-schema columns) asks for it.</summary>
    public bool[] ActiveOutputs(IEnumerable<DataViewSchema.Column> columns)
    {
        var active = new bool[Outputs.Count];
        foreach (var column in columns)
        {
            CheckBelongsToOutput(column);
            if (!IsPassThrough(column.Index))
                active[column.Index - InputColumnCount] = true;
        }
        return active;
    }

    /// <summary>The input columns behind the pass-through columns among <paramref name="columns"/>.</summary>
    public IEnumerable<DataViewSchema.Column> PassThroughInputs(IEnumerable<DataViewSchema.Column> columns) =>
        columns.Where(c => IsPassThrough(c.Index)).Select(c => InputSchema[c.Index]);

    /// <summary>
    /// Whether output-schema <paramref name="column"/> is active in a row built on <paramref name="source"/>: a
    /// pass-through column when its input column is active there, an output column when it was requested.
    /// </summary>
    public bool IsColumnActive(DataViewSchema.Column column, DataViewRow source, bool[] activeOutputs) =>
        IsPassThrough(column.Index)
            ? source.IsColumnActive(InputSchema[column.Index])
            : activeOutputs[column.Index - InputColumnCount];

    /// <summary>
    /// The getter of output-schema <paramref name="column"/> in a row built on <paramref name="source"/>: the source's
    /// getter for a pass-through column, else a reader of <paramref name="outputs"/> at the slot
    /// <paramref name="currentSlot"/> returns (which computes the batch when needed).
    /// </summary>
    public ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column, DataViewRow source, bool[] activeOutputs,
        BatchBuffers? outputs, Func<int> currentSlot)
    {
        if (IsPassThrough(column.Index))
            return source.GetGetter<TValue>(InputSchema[column.Index]);
        int output = column.Index - InputColumnCount;
        if (!activeOutputs[output])
            throw new InvalidOperationException($"Column '{column.Name}' was not requested when the row or cursor was created.");
        return BatchOutputGetters.Create<TValue>(Outputs[output], outputs![output], currentSlot);
    }

    private void CheckBelongsToOutput(DataViewSchema.Column column)
    {
        if (column.Index < 0 || column.Index >= OutputSchema.Count || OutputSchema[column.Index].Name != column.Name)
            throw new ArgumentException($"Column '{column.Name}' (index {column.Index}) is not a column of this transform's output schema.", nameof(column));
    }
}
