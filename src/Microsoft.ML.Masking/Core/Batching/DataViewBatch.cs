using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core.Batching;

/// <summary>
/// Consecutive rows read by a <see cref="DataViewBatchReader"/>: one buffer per declared column, rows packed
/// contiguously. The buffers are reused for the next batch: copy (e.g. with <see cref="Tensor(string, Device?)"/>) what must outlive it.
/// </summary>
internal sealed class DataViewBatch
{
    internal DataViewBatch(BatchInputBinding binding, BatchBuffers columns)
    {
        Binding = binding;
        Columns = columns;
    }

    /// <summary>The columns and what was found about them (image shape, classes).</summary>
    public BatchInputBinding Binding { get; }

    /// <summary>The buffers, in declaration order.</summary>
    public BatchBuffers Columns { get; }

    /// <summary>Position in the data view of the first row (seeds per-row draws, names rows in errors).</summary>
    public long FirstRow { get; internal set; }

    /// <summary>Rows in the batch.</summary>
    public int Count { get; internal set; }

    /// <summary>The buffer of column <paramref name="name"/>.</summary>
    public BatchColumnBuffer this[string name] => Columns[name];

    /// <summary>
    /// Column <paramref name="name"/> as a new tensor on <paramref name="device"/> (CPU by default): float32
    /// [Count, C, H, W] for images, [Count, H, W] per pixel, [Count] for weights, [Count, Size] for vectors; int64
    /// 0-based class indices [Count] for labels.
    /// </summary>
    public Tensor Tensor(string name, Device? device = null)
    {
        var buffer = Columns[name];
        return buffer.IsKey ? buffer.ToClassIndices(Count, device) : buffer.ToTensor(Count, device);
    }
}
