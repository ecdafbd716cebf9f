namespace Microsoft.ML.Masking.Core.Training;

/// <summary>
/// What a capability plugs into the <see cref="TrainingLoop"/>: the loop owns epochs, batches, shuffling,
/// learning-rate schedules, checkpoints, early stopping, progress and cancellation; the task computes the losses
/// and updates of one batch, and optionally validates after each epoch.
/// </summary>
/// <remarks>
/// Reproducibility contract: draw every random number of a step from <see cref="TrainingBatch.Generator"/> (or
/// from a generator seeded by values of the batch, such as its <see cref="TrainingBatch.Step"/>), and keep all
/// state that must survive a resume in the modules and optimisers of <see cref="TrainingComponents"/>. Then a run
/// resumed from a checkpoint is bit-identical to an uninterrupted one.
/// </remarks>
internal interface ITrainingTask
{
    /// <summary>
    /// One training step on <paramref name="batch"/> (modules in training mode, learning rates already set, inside a
    /// dispose scope the loop ends after the call, gradients enabled): forward, losses, <c>backward</c>, optimiser
    /// steps (as many, on as many optimisers, as the task needs). Record per-example metric sums with
    /// <see cref="TrainingBatch.Record"/>; the first recorded metric is the one progress reports (name it "loss").
    /// </summary>
    void Step(TrainingBatch batch);

    /// <summary>
    /// Validation after an epoch (modules in evaluation mode; the task decides about <c>no_grad</c>): metric means by
    /// name, or null when the task has nothing to validate on. The loop's early stopping reads one of them.
    /// </summary>
    Dictionary<string, double>? Validate();
}
