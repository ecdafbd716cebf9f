using Microsoft.ML.Masking.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Pretraining.Engine;

/// <summary>
/// Chooses the removed patches of a batch. Every image loses the same number R of patches; of those,
/// A = round(α · R) are the masking network's picks and the rest are uniformly random. The picks are the top-A
/// patches by <c>logit(score) / τ + Gumbel noise</c> among the candidates the <see cref="AdversarialPatchRule"/>
/// allows: a sample without replacement from the selection distribution softmax(logit(score) / τ) (the Gumbel-top-k
/// trick), so equal or saturated scores are broken at random, never by patch index.
/// </summary>
internal static class MaskSelection
{
    private const double ScoreEpsilon = 1e-6;

    /// <summary>Random masking: MAE's uniform noise, sorted, the <paramref name="keepCount"/> smallest kept.</summary>
    public static TokenMask Random(long images, long patches, int keepCount, Device device, Generator generator)
    {
        using var scope = NewDisposeScope();
        var noise = rand([images, patches], ScalarType.Float32, device, generator: generator);
        return TokenMask.FromNoise(noise, keepCount).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Adversarial masking. <paramref name="patchScores"/> [N, L] are the masking network's per-patch scores
    /// (detached); <paramref name="share"/> is α.
    /// </summary>
    public static TokenMask Adversarial(Tensor patchScores, double share, int keepCount, MaskingSettings settings, Generator generator)
    {
        using var scope = NewDisposeScope();
        long images = patchScores.shape[0], patches = patchScores.shape[1];
        var uniform = rand([images, patches], ScalarType.Float32, patchScores.device, generator: generator);
        var gumbelUniform = rand([images, patches], ScalarType.Float32, patchScores.device, generator: generator);
        return Adversarial(patchScores, share, keepCount, settings, uniform, gumbelUniform).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Adversarial masking from given noise: <paramref name="uniform"/> [N, L] orders the random removals and
    /// <paramref name="gumbelUniform"/> [N, L] (uniform in [0, 1)) becomes the Gumbel noise of the picks. With α = 0 it
    /// is random masking by <paramref name="uniform"/>.
    /// </summary>
    public static TokenMask Adversarial(Tensor patchScores, double share, int keepCount, MaskingSettings settings, Tensor uniform, Tensor gumbelUniform)
    {
        long patches = patchScores.shape[1];
        int removed = (int)patches - keepCount;
        int picks = (int)Math.Round(share * removed);
        using var scope = NewDisposeScope();
        if (picks == 0)
            return TokenMask.FromNoise(uniform, keepCount).MoveToOuterDisposeScope();

        var gumbel = gumbelUniform.Clamp(1e-10, 1 - 1e-7).log().neg().log().neg();
        var keys = SelectionLogits(patchScores, settings.SelectionTemperature).Plus(gumbel);
        var candidates = Candidates(patchScores, settings);
        if (candidates is not null)
            keys = keys.Fill(candidates.logical_not(), double.NegativeInfinity);
        var (top, indices) = keys.topk(picks, dim: 1);
        var chosen = zeros_like(uniform).scatter_(1, indices, top.isfinite().to(ScalarType.Float32));
        // Chosen patches get keys in [1, 2), above every random key in [0, 1): they are removed first.
        var noise = uniform.Plus(chosen);
        return TokenMask.FromNoise(noise, keepCount, chosen).MoveToOuterDisposeScope();
    }

    /// <summary>logit(score) / τ, scores clamped into [ε, 1 − ε] so saturated sigmoids stay finite.</summary>
    public static Tensor SelectionLogits(Tensor patchScores, double temperature)
    {
        using var scope = NewDisposeScope();
        var s = patchScores.Clamp(ScoreEpsilon, 1 - ScoreEpsilon);
        return s.log().sub(s.OneMinus().log()).DividedBy(temperature).MoveToOuterDisposeScope();
    }

    private static Tensor? Candidates(Tensor patchScores, MaskingSettings settings) => settings.AdversarialRule switch
    {
        AdversarialPatchRule.TopScores => null,
        AdversarialPatchRule.AboveThreshold => patchScores.GreaterThan(settings.ScoreThreshold),
        AdversarialPatchRule.AboveImageMean => patchScores.gt(patchScores.mean([1], keepdim: true)),
        _ => throw new ArgumentOutOfRangeException(nameof(settings), settings.AdversarialRule, "Unknown rule."),
    };
}
