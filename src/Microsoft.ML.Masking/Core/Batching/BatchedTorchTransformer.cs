using Microsoft.ML.Data;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Runtime;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core.Batching;

/// <summary>
/// Base of the library's TorchSharp transformers: maps rows in batches while staying a lazy ML.NET transform,
/// and saves into / loads from model.zip like any ML.NET transformer.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Transform"/> returns a lazy view. Its cursor reads <see cref="BatchSize"/> rows of the declared input
/// columns into contiguous <c>float[]</c> buffers and calls the subclass's batch kernel once per batch; input
/// columns pass through unchanged. Only output columns a consumer asks for make the kernel run.
/// <see cref="GetRowToRowMapper"/> maps one row at a time (a batch of one), for prediction engines.
/// </para>
/// <para>
/// Kernel contract (for subclasses): the kernel runs inside a TorchSharp dispose scope and <c>no_grad</c> set up by
/// this class, so tensors it creates are freed when it returns; it must copy its results into the output buffers
/// (e.g. <see cref="BatchColumnBuffer.CopyFrom"/>) before returning. Buffers are reused between batches. Several
/// cursors may call the kernel concurrently, each with its own buffers: keep no per-batch state in fields.
/// </para>
/// <para>
/// Persistence (for subclasses): implement <see cref="Format"/> and <see cref="SaveModel"/>, register the class
/// with <c>[assembly: LoadableClass(typeof(T), null, typeof(SignatureLoadModel), "user name", T.LoaderSignature)]</c>
/// and add <c>private static T Create(IHostEnvironment env, ModelLoadContext ctx)</c> that starts with
/// <see cref="ModelContentReader.Open"/>. See docs/architecture.md.
/// </para>
/// </remarks>
public abstract class BatchedTorchTransformer : ITransformer, ICanSaveModel
{
    private long _batchesRun;

    private protected BatchedTorchTransformer(IHostEnvironment env, string registrationName,
        IReadOnlyList<BatchInputColumn> inputs, IReadOnlyList<BatchOutputColumn> outputs, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentException.ThrowIfNullOrWhiteSpace(registrationName);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        Host = env.Register(registrationName);
        if (inputs.Count == 0)
            throw new ArgumentException("A batched transformer reads at least one input column.", nameof(inputs));
        if (outputs.Count == 0)
            throw new ArgumentException("A batched transformer writes at least one output column.", nameof(outputs));
        foreach (var input in inputs)
            input.Validate();
        var duplicate = outputs.GroupBy(o => o.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"Output column '{duplicate.Key}' is declared twice.", nameof(outputs));
        if (batchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1.");
        Inputs = inputs.ToArray();
        Outputs = outputs.ToArray();
        BatchSize = batchSize;
    }

    /// <summary>Rows per call of the network when transforming a data view.</summary>
    public int BatchSize { get; }

    /// <summary>Always true: this transformer maps each row independently of the others.</summary>
    public bool IsRowToRowMapper => true;

    /// <summary>Number of batches the kernel has run (all cursors and rows of this instance); for diagnostics and tests.</summary>
    internal long BatchesRun => Interlocked.Read(ref _batchesRun);

    /// <summary>The environment's host for this transformer: checks, channels, logging.</summary>
    private protected IHost Host { get; }

    /// <summary>The declared input columns.</summary>
    internal IReadOnlyList<BatchInputColumn> Inputs { get; }

    /// <summary>The declared output columns.</summary>
    internal IReadOnlyList<BatchOutputColumn> Outputs { get; }

    /// <summary>The model.zip identity of this transformer.</summary>
    private protected abstract ModelFormat Format { get; }

    /// <summary>Writes the transformer's content (JSON header, weights) after the base class wrote the version header.</summary>
    private protected abstract void SaveModel(ModelContentWriter writer);

    /// <summary>
    /// The kernel: computes the active output columns of the first <paramref name="rowCount"/> rows from the input
    /// buffers. Runs inside a dispose scope and <c>no_grad</c>; copy results into <paramref name="outputs"/>.
    /// </summary>
    /// <param name="inputs">One buffer per declared input column, rows packed contiguously.</param>
    /// <param name="outputs">One buffer per declared output column; skip the ones whose <see cref="BatchColumnBuffer.IsActive"/> is false.</param>
    /// <param name="rowCount">Rows in this batch (at most <see cref="BatchSize"/>; fewer at the end, 1 in a prediction engine).</param>
    private protected abstract void MapBatch(BatchBuffers inputs, BatchBuffers outputs, int rowCount);

    /// <summary>The output schema for <paramref name="inputSchema"/>; checks every input column's presence, type and size.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or is not a float vector of the expected size.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => Bind(inputSchema).OutputSchema;

    /// <summary>Returns a lazy view of <paramref name="input"/> with the output columns added.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or is not a float vector of the expected size.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new BatchedDataView(this, input, Bind(input.Schema));
    }

    /// <summary>A row-to-row mapper computing one row at a time, as prediction engines need.</summary>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => new BatchedRowMapper(this, Bind(inputSchema));

    void ICanSaveModel.Save(ModelSaveContext ctx) => ModelContentWriter.Save(ctx, Format, SaveModel);

    /// <summary>Runs the kernel on a batch with the TorchSharp scope and gradient mode it expects.</summary>
    internal void RunBatch(BatchBuffers inputs, BatchBuffers outputs, int rowCount)
    {
        using (NewDisposeScope())
        using (no_grad())
            MapBatch(inputs, outputs, rowCount);
        Interlocked.Increment(ref _batchesRun);
    }

    private BatchSchemaBinding Bind(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return new BatchSchemaBinding(inputSchema, Inputs, Outputs);
    }
}
