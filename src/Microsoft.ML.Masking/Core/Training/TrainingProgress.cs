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
}
