namespace Microsoft.ML.Masking.Core.Training;

/// <summary>The bookkeeping of a training run besides the modules and optimisers: what a checkpoint must restore.</summary>
internal sealed class TrainingState
{
    /// <summary>Epochs finished so far.</summary>
    public int CompletedEpochs { get; set; }

    /// <summary>The epoch (from 1) with the best validation metric so far; 0 before any validation.</summary>
    public int BestEpoch { get; set; }

    /// <summary>The best validation metric so far.</summary>
    public double? BestMetric { get; set; }

    /// <summary>One report per finished epoch.</summary>
    public List<EpochReport> History { get; set; } = [];
}
