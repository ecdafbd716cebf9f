using Microsoft.ML.Masking.Models;

namespace Microsoft.ML.Masking.Training.Engine;

/// <summary>The outcome of a training run: the network (in eval mode, best weights under early stopping) and its history.</summary>
internal sealed record ResNetTrainingResult(ResNet Model, IReadOnlyList<ResNetEpochReport> History, int BestEpoch, bool StoppedEarly);
