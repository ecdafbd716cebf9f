using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core.Training;

/// <summary>Settings of a <see cref="TrainingLoop"/> run; the trainer that uses the loop fills them from its own options.</summary>
internal sealed class TrainingLoopOptions
{
    /// <summary>What is trained, for messages ("ResNet training").</summary>
    public string Name { get; init; } = "Training";

    /// <summary>Passes over the training data.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Examples per step; the last incomplete batch of an epoch is dropped. Capped at the number of examples.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Seed of every epoch's generator (shuffle and the task's draws).</summary>
    public int Seed { get; init; }

    /// <summary>Where batches go.</summary>
    public Device Device { get; init; } = CPU;

    /// <summary>Checkpoint file: resumed from when it exists, rewritten atomically every <see cref="CheckpointEveryEpochs"/> epochs. Null: none.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>How often the checkpoint is written, in epochs (and always after the last).</summary>
    public int CheckpointEveryEpochs { get; init; } = 1;

    /// <summary>Validation metric that decides the best epoch (e.g. "accuracy", or "loss" with <see cref="HigherIsBetter"/> false).</summary>
    public string BestMetric { get; init; } = "accuracy";

    /// <summary>Whether a higher <see cref="BestMetric"/> is better.</summary>
    public bool HigherIsBetter { get; init; } = true;

    /// <summary>Stop after this many epochs without a better <see cref="BestMetric"/>, and restore the best epoch's modules; 0: never.</summary>
    public int EarlyStoppingPatience { get; init; }

    /// <summary>TorchSharp threads during the run (process-wide while it lasts, restored after); null: leave the setting alone.</summary>
    public int? NumberOfThreads { get; init; }

    /// <summary>Checked before every step, besides the host's cancellation (<c>mlContext.CancelExecution()</c>).</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>
    /// Everything else that shapes the result (the task's options: architecture, optimiser, schedule, loss,
    /// augmentation, validation data…), as text by name. The loop adds its own settings and the training data's hash;
    /// a checkpoint resumes only under an equal fingerprint, and a refusal names the entries that differ.
    /// </summary>
    public IReadOnlyDictionary<string, string> Fingerprint { get; init; } = new Dictionary<string, string>();
}
