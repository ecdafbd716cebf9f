using Microsoft.ML.Masking.Core.Segmentation;
namespace Microsoft.ML.Masking.Evaluation;

/// <summary>
/// Settings of <see cref="MaskingEvaluationCatalog.EvaluateMaskColorDependence"/>: which region is removed and
/// which colours it is painted with. Every property documents its default.
/// </summary>
public sealed class MaskColorDependenceOptions : MaskingEvaluationOptions
{
    /// <summary>Fraction of segments removed (in random order, the same draw as a feature-removal curve with the same seed). Default: 0.5.</summary>
    public double Fraction { get; set; } = 0.5;

    /// <summary>What the removed units are. Default: 16×16 patches.</summary>
    public SegmentationOptions Segmentation { get; set; } = new();

    /// <summary>
    /// The colours the removed region is painted with. Default: null, meaning black, grey, red, green, blue and the
    /// kept pixels' mean for three-channel images, and black, grey, white and the mean for one channel.
    /// </summary>
    public IReadOnlyList<MaskFill>? Fills { get; set; }

    /// <summary>The pixel value of full intensity, which scales the constant fills (255 when ExtractPixels keeps bytes). Default: 1.</summary>
    public float MaxPixelValue { get; set; } = 1f;

    /// <summary>The fills in effect for <paramref name="channels"/> channels.</summary>
    internal IReadOnlyList<MaskFill> FillsFor(int channels) => Fills ?? (channels == 3
        ? [MaskFill.Black, MaskFill.Grey, MaskFill.Red, MaskFill.Green, MaskFill.Blue, MaskFill.KeptMean]
        : [MaskFill.Black, MaskFill.Grey, MaskFill.White, MaskFill.KeptMean]);

    internal override void Validate()
    {
        base.Validate();
        if (!(Fraction > 0 && Fraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(Fraction), Fraction, "The fraction removed must lie in (0, 1]: with nothing removed there is no colour to vary.");
        ArgumentNullException.ThrowIfNull(Segmentation, nameof(Segmentation));
        if (!(MaxPixelValue > 0) || !float.IsFinite(MaxPixelValue))
            throw new ArgumentOutOfRangeException(nameof(MaxPixelValue), MaxPixelValue, "must be positive and finite");
        int channels = ClassifierInEffect.ImageShape.Channels;
        var fills = FillsFor(channels);
        if (fills.Count < 2)
            throw new ArgumentException("Compare at least two fills.", nameof(Fills));
        if (fills.Select(f => f.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count() != fills.Count)
            throw new ArgumentException("Fill names must be distinct.", nameof(Fills));
        foreach (var fill in fills)
            fill.EnsureChannels(channels);
    }
}
