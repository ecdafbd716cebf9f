using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core.Training;

/// <summary>One batch handed to <see cref="ITrainingTask.Step"/>: the examples, where it stands in the run, and its random source.</summary>
internal sealed class TrainingBatch
{
    private readonly Dictionary<string, double> _sums;

    internal TrainingBatch(Dictionary<string, double> sums, int epoch, int index, long step, Tensor rows, Tensor images,
        Tensor? labels, Tensor? weights, Generator generator, Device device)
    {
        _sums = sums;
        Epoch = epoch;
        Index = index;
        Step = step;
        Rows = rows;
        Images = images;
        Labels = labels;
        Weights = weights;
        Generator = generator;
        Device = device;
    }

    /// <summary>The 0-based epoch.</summary>
    public int Epoch { get; }

    /// <summary>The 0-based batch within the epoch.</summary>
    public int Index { get; }

    /// <summary>The 0-based global step (epoch × batches per epoch + index).</summary>
    public long Step { get; }

    /// <summary>Indices of the batch's examples in the training data (int64, CPU).</summary>
    public Tensor Rows { get; }

    /// <summary>Images [B, C, H, W], float32 as read (not normalised), on <see cref="Device"/>.</summary>
    public Tensor Images { get; }

    /// <summary>0-based labels [B], int64, on <see cref="Device"/>; null when the data has none.</summary>
    public Tensor? Labels { get; }

    /// <summary>Example weights [B], float32, on <see cref="Device"/>; null when the data has none.</summary>
    public Tensor? Weights { get; }

    /// <summary>The epoch's CPU generator (seeded by seed and epoch; it already drew the shuffle): draw this step's randomness from it.</summary>
    public Generator Generator { get; }

    /// <summary>Where the modules train.</summary>
    public Device Device { get; }

    /// <summary>Examples in the batch.</summary>
    public int Count => (int)Images.shape[0];

    /// <summary>
    /// Adds <paramref name="sum"/> (a sum over the batch's examples, e.g. mean loss × <see cref="Count"/>) to metric
    /// <paramref name="name"/>; the epoch reports its mean per example.
    /// </summary>
    public void Record(string name, double sum)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _sums[name] = _sums.TryGetValue(name, out double total) ? total + sum : sum;
    }
}
