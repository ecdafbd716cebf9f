namespace Microsoft.ML.Masking.Training;

/// <summary>How the learning rate changes over training (after the linear warm-up).</summary>
public enum LearningRateScheduleKind
{
    /// <summary>Cosine decay from the learning rate to zero at the end of the last epoch, updated every step.</summary>
    Cosine,
    /// <summary>Multiplied by <c>StepGamma</c> at each epoch listed in <c>StepMilestones</c>.</summary>
    Step,
}
