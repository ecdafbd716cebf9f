using Microsoft.ML.Masking.Training;

namespace Microsoft.ML.Masking.Ensemble.Engine;

/// <summary>The trained ensemble: networks (frozen, evaluation mode), per-member channel importances, aggregation weights and histories.</summary>
internal sealed record EnsembleTrainingResult(EnsembleNetwork Network, IReadOnlyList<float[]> ChannelImportances, float[] MemberWeights,
    IReadOnlyList<IReadOnlyList<ResNetEpochReport>> Histories);
