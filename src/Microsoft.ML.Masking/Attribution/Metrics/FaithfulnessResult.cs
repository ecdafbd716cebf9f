namespace Microsoft.ML.Masking.Attribution.Metrics;

/// <summary>The faithfulness metrics of one removal method: the deletion/insertion curves and top-k ablation.</summary>
public sealed class FaithfulnessResult
{
    internal FaithfulnessResult(string removal, IReadOnlyList<AttributionCurve> curves, IReadOnlyDictionary<int, MetricValue> topK,
        ConsistencyResult consistency, MetricValue? faithfulnessCorrelation, MetricValue? removalLinearity)
    {
        Removal = removal;
        Curves = curves;
        TopKAblationAccuracy = topK;
        Consistency = consistency;
        FaithfulnessCorrelation = faithfulnessCorrelation;
        RemovalLinearity = removalLinearity;
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

    /// <summary>The consistency metric C(E) of seed 004 under this removal.</summary>
    public ConsistencyResult Consistency { get; }

    /// <summary>
    /// Faithfulness correlation under this removal: Pearson's ρ per row between the attribution summed over random pixel
    /// subsets and the drop of the target's logit when they are removed (−1 … 1, higher is better); null unless
    /// <see cref="AttributionEvaluationOptions.FaithfulnessCorrelationRuns"/> is set.
    /// </summary>
    public MetricValue? FaithfulnessCorrelation { get; }

    /// <summary>
    /// Linearity of removal: held-out R² of a linear model of the target's logit in the segments' on/off
    /// indicators under this removal (1 = removal acts additively); null unless <see cref="AttributionEvaluationOptions.LinearitySamples"/> is set.
    /// </summary>
    public MetricValue? RemovalLinearity { get; }
}
