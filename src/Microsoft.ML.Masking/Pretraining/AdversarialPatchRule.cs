namespace Microsoft.ML.Masking.Pretraining;

/// <summary>
/// Which patches may count as adversarial, i.e. may fill the masking network's share of the removed patches. The
/// number of removed patches stays fixed (the encoder needs the same number of visible tokens in every image); a
/// rule only narrows the candidates, and when an image has fewer candidates than its adversarial share, random
/// patches fill the rest.
/// </summary>
public enum AdversarialPatchRule
{
    /// <summary>Every patch is a candidate: the share goes to the top-scoring patches (Gumbel-perturbed).</summary>
    TopScores,

    /// <summary>Only patches whose score exceeds the fixed threshold (the seed's <c>mask_scores &gt; threshold</c>).</summary>
    AboveThreshold,

    /// <summary>Only patches whose score exceeds the image's mean patch score (the seed's dynamic threshold).</summary>
    AboveImageMean,
}
