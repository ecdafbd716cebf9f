using Microsoft.ML.Masking.Core.Segmentation;
namespace Microsoft.ML.Masking.Evaluation;

/// <summary>
/// Settings of <see cref="MaskingEvaluationCatalog.EvaluateFeatureRemoval"/>: which fractions of each image's
/// segments to remove, what the segments are, and in which order they go. Every property documents its default.
/// </summary>
public sealed class FeatureRemovalOptions : MaskingEvaluationOptions
{
    /// <summary>Fractions of segments removed, each in [0, 1]; the curves' x values. Default: 0, 0.1, …, 1.0.</summary>
    public IReadOnlyList<double> Fractions { get; set; } = Enumerable.Range(0, 11).Select(i => i / 10.0).ToArray();

    /// <summary>What the removed units are. Default: 16×16 patches.</summary>
    public SegmentationOptions Segmentation { get; set; } = new();

    /// <summary>Which segments go first. Default: <see cref="RemovalOrder.Random"/>.</summary>
    public RemovalOrder Order { get; set; } = RemovalOrder.Random;

    /// <summary>
    /// Column of per-pixel relevance (height × width floats, larger = more relevant), needed by the attribution
    /// orders; a segment's relevance is the mean over its pixels. Default: null.
    /// </summary>
    public string? AttributionColumnName { get; set; }

    /// <summary>Random removal orders drawn per image (their results are averaged per image before the standard error is taken). Default: 1.</summary>
    public int Repeats { get; set; } = 1;

    internal override void Validate()
    {
        base.Validate();
        if (Fractions is null || Fractions.Count == 0)
            throw new ArgumentException("Give at least one fraction to remove.", nameof(Fractions));
        foreach (double fraction in Fractions)
            if (!(fraction >= 0 && fraction <= 1))
                throw new ArgumentOutOfRangeException(nameof(Fractions), fraction, "Fractions removed must lie in [0, 1].");
        if (Fractions.Distinct().Count() != Fractions.Count)
            throw new ArgumentException("Each fraction may be listed once.", nameof(Fractions));
        ArgumentNullException.ThrowIfNull(Segmentation, nameof(Segmentation));
        if (!Enum.IsDefined(Order))
            throw new ArgumentOutOfRangeException(nameof(Order), Order, "Unknown removal order.");
        if (Order != RemovalOrder.Random && string.IsNullOrWhiteSpace(AttributionColumnName))
            throw new ArgumentException($"Removal order {Order} needs an attribution column; set {nameof(AttributionColumnName)}.", nameof(AttributionColumnName));
        if (Repeats < 1)
            throw new ArgumentOutOfRangeException(nameof(Repeats), Repeats, "must be at least 1");
    }
}
