namespace Microsoft.ML.Masking.Training;

/// <summary>What <see cref="ResNetTrainingHistory.ToSvg"/> plots per epoch.</summary>
public enum ResNetTrainingMetric
{
    /// <summary>Top-1 accuracy (training batches as trained, and the validation set when there is one).</summary>
    Accuracy,

    /// <summary>Cross-entropy loss (the training loss includes label smoothing; the validation loss does not).</summary>
    Loss,
}
