namespace Microsoft.ML.Masking.Training.Engine;

/// <summary>The bookkeeping of a training run besides the weights and the optimiser: what a checkpoint must restore.</summary>
internal sealed class TrainingState
{
    /// <summary>Epochs finished so far.</summary>
    public int CompletedEpochs { get; set; }

    /// <summary>The epoch (from 1) with the best validation accuracy so far; 0 before any validation.</summary>
    public int BestEpoch { get; set; }

    /// <summary>The best validation accuracy so far.</summary>
    public double? BestValidationAccuracy { get; set; }

    /// <summary>One report per finished epoch.</summary>
    public List<ResNetEpochReport> History { get; set; } = [];
}
