namespace Microsoft.ML.Masking.Pretraining;

/// <summary>One epoch of masked-autoencoder pre-training.</summary>
public sealed class PretrainingEpochReport
{
    /// <summary>The epoch, from 1.</summary>
    public int Epoch { get; init; }

    /// <summary>Mean reconstruction loss (MSE over removed patches).</summary>
    public double ReconstructionLoss { get; init; }

    /// <summary>Mean adversarial term (negative under the maximising objective: minus the expected error of a picked patch); 0 for random masking.</summary>
    public double AdversarialTerm { get; init; }

    /// <summary>Mean per-batch hardness gap (error of the masking network's picks minus that of random removals); NaN when there were no picks.</summary>
    public double HardnessGap { get; init; }

    /// <summary>Mean α (share of removed patches the masking network chose) over the epoch.</summary>
    public double AdversarialShare { get; init; }

    /// <summary>The autoencoder's learning rate at the epoch's last step.</summary>
    public double LearningRate { get; init; }

    /// <summary>Training throughput.</summary>
    public double ImagesPerSecond { get; init; }

    /// <summary>Wall time of the epoch's steps.</summary>
    public TimeSpan Duration { get; init; }
}
