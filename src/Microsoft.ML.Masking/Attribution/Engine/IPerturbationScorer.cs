using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// What the perturbation methods need of a model: scores of images with some pixels removed. Removal is the scorer's
/// business (layer masking, a baseline fill, or pixels painted before an arbitrary ML.NET transformer).
/// </summary>
public interface IPerturbationScorer
{
    /// <summary>Number of classes (the length of a score vector).</summary>
    int ClassCount { get; }

    /// <summary>Where tensors go.</summary>
    Device Device { get; }

    /// <summary>Scores [N, classes] of pixel-space images [N, C, H, W] with the pixels where <paramref name="keep"/> ([N, H, W]) is 0 removed.</summary>
    /// <param name="pixels">The images.</param>
    /// <param name="keep">1 = kept, 0 = removed.</param>
    /// <param name="noise">Random source of a noise fill, drawn per point (see <see cref="PerturbationNoise"/>).</param>
    Tensor Scores(Tensor pixels, Tensor keep, PerturbationNoise noise);
}
