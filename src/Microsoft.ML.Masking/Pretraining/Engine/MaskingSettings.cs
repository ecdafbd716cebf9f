using System.Globalization;

namespace Microsoft.ML.Masking.Pretraining.Engine;

/// <summary>
/// The masking and loss settings of one pre-training step. Property names are those of the estimator's options,
/// so that validation errors name the option a user set.
/// </summary>
internal sealed record MaskingSettings
{
    /// <summary>Share of the patches removed from every image, in (0, 1).</summary>
    public double MaskRatio { get; init; } = 0.75;

    /// <summary>Random or adversarial masking.</summary>
    public MaskingStrategy Masking { get; init; } = MaskingStrategy.Adversarial;

    /// <summary>The share α of the removed patches chosen by the masking network at the end of the ramp, in [0, 1].</summary>
    public double MaxAdversarialShare { get; init; } = 0.5;

    /// <summary>Fraction of training over which α ramps linearly from 0 to <see cref="MaxAdversarialShare"/>, in [0, 1] (0: no ramp).</summary>
    public double AdversarialShareRamp { get; init; } = 1.0;

    /// <summary>Which patches may count as adversarial.</summary>
    public AdversarialPatchRule AdversarialRule { get; init; } = AdversarialPatchRule.TopScores;

    /// <summary>The fixed threshold of <see cref="AdversarialPatchRule.AboveThreshold"/>, in (0, 1).</summary>
    public double ScoreThreshold { get; init; } = 0.5;

    /// <summary>Temperature τ of the masking network's selection distribution softmax(logit(score) / τ), positive.</summary>
    public double SelectionTemperature { get; init; } = 0.25;

    /// <summary>λ: weight of the adversarial term, at least 0.</summary>
    public double AdversarialWeight { get; init; } = 1.0;

    /// <summary>Weight of the size penalty that keeps each image's mean score away from 0 and 1, at least 0.</summary>
    public double SizePenaltyWeight { get; init; } = 0.1;

    /// <summary>Weight of the diversity penalty against one selection pattern for every image, at least 0.</summary>
    public double DiversityPenaltyWeight { get; init; } = 1.0;

    /// <summary>What the masking network is trained to do.</summary>
    public AdversarialObjective Objective { get; init; } = AdversarialObjective.MaximizeReconstructionError;

    /// <summary>Whether targets are per-patch normalised pixels (MAE's norm_pix_loss).</summary>
    public bool NormalizePixelTargets { get; init; }

    /// <summary>Hidden channels of the masking network's first two convolutions, at least 1.</summary>
    public int MaskingNetworkChannels { get; init; } = 8;

    /// <summary>Checks every setting; the message names the option and its valid range.</summary>
    public void Validate()
    {
        Open01(MaskRatio, nameof(MaskRatio));
        Closed01(MaxAdversarialShare, nameof(MaxAdversarialShare));
        Closed01(AdversarialShareRamp, nameof(AdversarialShareRamp));
        Open01(ScoreThreshold, nameof(ScoreThreshold));
        if (!(SelectionTemperature > 0) || double.IsInfinity(SelectionTemperature))
            throw Range(nameof(SelectionTemperature), SelectionTemperature, "a positive finite number");
        NonNegative(AdversarialWeight, nameof(AdversarialWeight));
        NonNegative(SizePenaltyWeight, nameof(SizePenaltyWeight));
        NonNegative(DiversityPenaltyWeight, nameof(DiversityPenaltyWeight));
        if (MaskingNetworkChannels < 1)
            throw Range(nameof(MaskingNetworkChannels), MaskingNetworkChannels, "at least 1");
        if (!Enum.IsDefined(Masking)) throw Range(nameof(Masking), Masking, "a MaskingStrategy");
        if (!Enum.IsDefined(AdversarialRule)) throw Range(nameof(AdversarialRule), AdversarialRule, "an AdversarialPatchRule");
        if (!Enum.IsDefined(Objective)) throw Range(nameof(Objective), Objective, "an AdversarialObjective");
    }

    /// <summary>Patches each image keeps visible: ⌊L · (1 − ratio)⌋ as in MAE, at least 1 and at most L − 1.</summary>
    public int KeepCount(int patchCount) => Math.Clamp((int)Math.Floor(patchCount * (1 - MaskRatio)), 1, patchCount - 1);

    /// <summary>α at <paramref name="step"/> of <paramref name="totalSteps"/>: 0 for random masking, else the linear ramp.</summary>
    public double AdversarialShareAt(long step, long totalSteps)
    {
        if (Masking == MaskingStrategy.Random) return 0;
        double rampSteps = AdversarialShareRamp * totalSteps;
        return rampSteps <= 0 ? MaxAdversarialShare : MaxAdversarialShare * Math.Min(1.0, step / rampSteps);
    }

    /// <summary>The settings as one line, for checkpoint fingerprints.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"ratio {MaskRatio:R} {Masking} alpha {MaxAdversarialShare:R} ramp {AdversarialShareRamp:R} rule {AdversarialRule} threshold {ScoreThreshold:R} " +
        $"tau {SelectionTemperature:R} lambda {AdversarialWeight:R} size {SizePenaltyWeight:R} diversity {DiversityPenaltyWeight:R} {Objective} " +
        $"normpix {NormalizePixelTargets} amn {MaskingNetworkChannels}");

    private static void Open01(double value, string name)
    {
        if (!(value > 0 && value < 1))
            throw Range(name, value, "strictly between 0 and 1");
    }

    private static void Closed01(double value, string name)
    {
        if (!(value >= 0 && value <= 1))
            throw Range(name, value, "between 0 and 1");
    }

    private static void NonNegative(double value, string name)
    {
        if (!(value >= 0) || double.IsInfinity(value))
            throw Range(name, value, "a finite number at least 0");
    }

    private static ArgumentOutOfRangeException Range(string name, object value, string expected) =>
        new(name, value, $"Option {name} must be {expected}; got {Convert.ToString(value, CultureInfo.InvariantCulture)}.");
}
