using Microsoft.ML.Runtime;

namespace Microsoft.ML.Masking.Core.Training;

/// <summary>Where training stands, updated by the training loop and read (from any thread) by progress reporters.</summary>
internal sealed class TrainingProgress
{
    private readonly object _gate = new();
    private int _epoch, _batch, _batchesPerEpoch, _epochs;
    private double _loss;

    public void Update(int epoch, int epochs, int batch, int batchesPerEpoch, double runningLoss)
    {
        lock (_gate)
            (_epoch, _epochs, _batch, _batchesPerEpoch, _loss) = (epoch, epochs, batch, batchesPerEpoch, runningLoss);
    }

    public (int Epoch, int Epochs, int Batch, int BatchesPerEpoch, double Loss) Read()
    {
        lock (_gate)
            return (_epoch, _epochs, _batch, _batchesPerEpoch, _loss);
    }

    /// <summary>
    /// Shows this progress on an ML.NET progress channel: the metrics named (the first is the running loss; the others
    /// come from the trainer's own <c>Checkpoint</c> calls), epochs and batches.
    /// </summary>
    public void ShowOn(IProgressChannel channel, params string[] metricNames)
    {
        channel.SetHeader(new ProgressHeader(metricNames, ["epochs", "batches"]), entry =>
        {
            var p = Read();
            entry.SetMetric(0, p.Loss);
            entry.SetProgress(0, p.Epoch, p.Epochs);
            entry.SetProgress(1, p.Batch, p.BatchesPerEpoch);
        });
    }
}
