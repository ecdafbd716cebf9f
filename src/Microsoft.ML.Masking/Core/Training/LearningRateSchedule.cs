namespace Microsoft.ML.Masking.Training.Engine;

/// <summary>
/// The learning rate as a pure function of the global step: linear warm-up, then cosine decay to zero or step
/// decay at epoch milestones. Being a function of the step alone, it needs no state in a checkpoint.
/// </summary>
internal sealed class LearningRateSchedule(double peak, LearningRateScheduleKind kind, int stepsPerEpoch, int epochs,
    int warmupEpochs, IReadOnlyList<int> milestones, double gamma)
{
    private readonly int _warmupSteps = Math.Min(warmupEpochs, epochs) * stepsPerEpoch;
    private readonly int _totalSteps = epochs * stepsPerEpoch;

    /// <summary>The rate of 0-based step <paramref name="step"/>.</summary>
    public double At(int step)
    {
        if (step < _warmupSteps)
            return peak * (step + 1) / _warmupSteps;
        return kind switch
        {
            LearningRateScheduleKind.Cosine =>
                peak * 0.5 * (1 + Math.Cos(Math.PI * (step - _warmupSteps) / Math.Max(1, _totalSteps - _warmupSteps))),
            LearningRateScheduleKind.Step =>
                peak * Math.Pow(gamma, milestones.Count(m => m <= step / stepsPerEpoch)),
            _ => throw new InvalidOperationException($"Unknown schedule {kind}."),
        };
    }
}
