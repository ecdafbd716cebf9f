namespace Microsoft.ML.Masking.Core.Training;

/// <summary>What a <see cref="TrainingLoop"/> epoch produced: the mean of each metric the step recorded, and the validation metrics.</summary>
internal sealed class EpochReport
{
    /// <summary>The epoch, from 1.</summary>
    public int Epoch { get; init; }

    /// <summary>Mean per example of each metric the step recorded (e.g. "loss", "accuracy"), in recording order.</summary>
    public Dictionary<string, double> Training { get; init; } = [];

    /// <summary>The task's validation metrics, or null without validation.</summary>
    public Dictionary<string, double>? Validation { get; init; }

    /// <summary>The learning rate of the last step (of the first optimiser).</summary>
    public double LearningRate { get; init; }

    /// <summary>Training examples per second (steps only, not validation).</summary>
    public double ExamplesPerSecond { get; init; }

    /// <summary>Time of the epoch's steps.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>A training metric, or NaN when the step did not record it.</summary>
    public double TrainingMetric(string name) => Training.TryGetValue(name, out double v) ? v : double.NaN;

    /// <summary>A validation metric, or null.</summary>
    public double? ValidationMetric(string name) => Validation is not null && Validation.TryGetValue(name, out double v) ? v : null;
}
