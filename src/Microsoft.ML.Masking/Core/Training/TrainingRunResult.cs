namespace Microsoft.ML.Masking.Core.Training;

/// <summary>The outcome of a <see cref="TrainingLoop"/> run (the modules themselves are the caller's, now trained, in evaluation mode).</summary>
/// <param name="History">One report per epoch, including those restored from a checkpoint.</param>
/// <param name="BestEpoch">The epoch (from 1) with the best validation metric; 0 without validation.</param>
/// <param name="StoppedEarly">Whether early stopping ended the run (the modules then hold the best epoch's weights).</param>
internal sealed record TrainingRunResult(IReadOnlyList<EpochReport> History, int BestEpoch, bool StoppedEarly);
