namespace Microsoft.ML.Masking.Pretraining;

/// <summary>
/// What the masks of a pre-trained model look like over a set of images, to tell adaptive masking from its failure
/// modes (one pattern for every image, index-order fall-back, whole objects hidden).
/// </summary>
public sealed class MaskDiagnostics
{
    /// <summary>Images measured.</summary>
    public required int Images { get; init; }

    /// <summary>Patches per image.</summary>
    public required int Patches { get; init; }

    /// <summary>Removed patches per image.</summary>
    public required int RemovedPerImage { get; init; }

    /// <summary>
    /// Entropy of the per-position masking frequency, normalised to [0, 1]: with c_j the number of images whose patch j
    /// is removed and q_j = c_j / Σc, H(q) / log L. 1 when every position is removed equally often (random masking,
    /// up to sampling noise); low when the same positions are removed in every image.
    /// </summary>
    public required double PositionEntropy { get; init; }

    /// <summary>
    /// Mean over pairs of images of |removed(a) ∩ removed(b)| / R. Random masking gives R / L in expectation
    /// (<see cref="RandomPairwiseOverlap"/>); 1 means every image has the same mask.
    /// </summary>
    public required double PairwiseOverlap { get; init; }

    /// <summary>The expected <see cref="PairwiseOverlap"/> of uniformly random masks: R / L.</summary>
    public double RandomPairwiseOverlap => (double)RemovedPerImage / Patches;

    /// <summary>
    /// Mean reconstruction error of the masking network's picks minus that of the randomly removed patches (same
    /// images, same step). Positive when the network finds patches that are harder than random; null without a
    /// masking network or picks.
    /// </summary>
    public double? HardnessGap { get; init; }

    /// <summary>Mean reconstruction error over all removed patches.</summary>
    public required double ReconstructionError { get; init; }

    /// <summary>Mean over images of the share of object pixels inside removed patches; null without object masks.</summary>
    public double? ObjectShareMasked { get; init; }

    /// <summary>Mean over images of the share of object pixels inside the masking network's picks; null without object masks or picks.</summary>
    public double? ObjectShareAdversarial { get; init; }

    /// <summary>The share α of removed patches the masking network chose while measuring.</summary>
    public required double AdversarialShare { get; init; }
}
