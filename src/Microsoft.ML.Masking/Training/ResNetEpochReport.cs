namespace Microsoft.ML.Masking.Training;

/// <summary>What one epoch of <see cref="ResNetTrainer"/> achieved; also written to the log as it happens.</summary>
public sealed record ResNetEpochReport
{
    /// <summary>The epoch, counted from 1.</summary>
    public int Epoch { get; init; }

    /// <summary>Mean training loss over the epoch's (augmented) batches, label smoothing included.</summary>
    public double TrainingLoss { get; init; }

    /// <summary>Accuracy on the epoch's augmented training batches, measured while training.</summary>
    public double TrainingAccuracy { get; init; }

    /// <summary>Mean cross-entropy on the validation set after the epoch (no smoothing); null without one.</summary>
    public double? ValidationLoss { get; init; }

    /// <summary>Accuracy on the validation set after the epoch; null without one.</summary>
    public double? ValidationAccuracy { get; init; }

    /// <summary>Learning rate of the epoch's last step.</summary>
    public double LearningRate { get; init; }

    /// <summary>Training throughput: images of the epoch divided by its training time (validation excluded).</summary>
    public double ImagesPerSecond { get; init; }

    /// <summary>Wall time of the epoch, validation included.</summary>
    public TimeSpan Duration { get; init; }
}
