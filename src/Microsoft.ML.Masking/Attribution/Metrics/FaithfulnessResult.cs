namespace Microsoft.ML.Masking.Attribution.Metrics;

/// <summary>The faithfulness metrics of one removal method: the deletion/insertion curves and top-k ablation.</summary>
public sealed class FaithfulnessResult
{
    internal FaithfulnessResult(string removal, IReadOnlyList<AttributionCurve> curves, IReadOnlyDictionary<int, MetricValue> topK)
    {
        Removal = removal;
        Curves = curves;
        TopKAblationAccuracy = topK;
    }

    /// <summary>How pixels were removed.</summary>
    public string Removal { get; }

    /// <summary>One curve per <see cref="AttributionCurveKind"/>.</summary>
    public IReadOnlyList<AttributionCurve> Curves { get; }

    /// <summary>The curve of <paramref name="kind"/>.</summary>
    public AttributionCurve this[AttributionCurveKind kind] => Curves.First(c => c.Kind == kind);

    /// <summary>
    /// Top-k ablation (the layer-masking paper's LIME metric): accuracy against the label after removing the k most
    /// relevant segments; a faithful attribution makes it fall. Keyed by k.
    /// </summary>
    public IReadOnlyDictionary<int, MetricValue> TopKAblationAccuracy { get; }
}
