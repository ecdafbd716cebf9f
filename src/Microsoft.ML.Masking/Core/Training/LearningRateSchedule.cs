using Microsoft.ML.Masking.Training;

namespace Microsoft.ML.Masking.Core.Training;

/// <summary>
/// The learning rate of one optimiser as a pure function of the global step: linear warm-up to
/// <see cref="Peak"/>, then cosine decay to zero or step decay at epoch milestones. Being a function of the step
/// alone, it needs no state in a checkpoint. The <see cref="TrainingLoop"/> sets it on every parameter group of
/// the optimiser before each step.
/// </summary>
/// <param name="Peak">The rate reached after the warm-up.</param>
/// <param name="Kind">Cosine or step decay after the warm-up.</param>
/// <param name="WarmupEpochs">Epochs of linear warm-up from 0 (0: none).</param>
/// <param name="Milestones">For step decay: the 0-based epochs at whose start the rate is multiplied by <paramref name="Gamma"/>.</param>
/// <param name="Gamma">For step decay: the factor at each milestone.</param>
internal sealed record LearningRateSchedule(double Peak, LearningRateScheduleKind Kind, int WarmupEpochs = 0,
    IReadOnlyList<int>? Milestones = null, double Gamma = 0.1)
{
    /// <summary>A constant rate.</summary>
    public static LearningRateSchedule Constant(double rate) =>
        new(rate, LearningRateScheduleKind.Step, 0, [], 1);

    /// <summary>The rate of 0-based step <paramref name="step"/> of a run of <paramref name="epochs"/> × <paramref name="stepsPerEpoch"/> steps.</summary>
    public double At(long step, int stepsPerEpoch, int epochs)
    {
        long warmupSteps = (long)Math.Min(WarmupEpochs, epochs) * stepsPerEpoch;
        long totalSteps = (long)epochs * stepsPerEpoch;
        if (step < warmupSteps)
            return Peak * (step + 1) / warmupSteps;
        return Kind switch
        {
            LearningRateScheduleKind.Cosine =>
                Peak * 0.5 * (1 + Math.Cos(Math.PI * (step - warmupSteps) / Math.Max(1, totalSteps - warmupSteps))),
            LearningRateScheduleKind.Step =>
                Peak * Math.Pow(Gamma, (Milestones ?? []).Count(m => m <= step / stepsPerEpoch)),
            _ => throw new InvalidOperationException($"Unknown schedule {Kind}."),
        };
    }

    /// <summary>The schedule as fingerprint text (culture-invariant).</summary>
    public string Describe() => FormattableString.Invariant(
        $"{Kind} peak {Peak:R} warmup {WarmupEpochs} milestones [{string.Join(" ", Milestones ?? [])}] gamma {Gamma:R}");
}
