namespace Microsoft.ML.Masking.Attribution.Metrics;

/// <summary>
/// The journal's consistency metric (seed 004), C(E) = 1 / (|f(E) − f(X)| · |S|), under one removal method. E is the
/// smallest non-empty insertion of the most relevant segments, along the insertion curve's fractions, whose predicted
/// class is the whole image's; |S| its kept share of the pixels; |f(E) − f(X)| the L1 distance between the two
/// probability vectors, floored at <see cref="GapFloor"/> so that a perfect match stays finite. Higher is better: a
/// small mask that keeps the output.
/// </summary>
public sealed class ConsistencyResult
{
    /// <summary>The floor of |f(E) − f(X)|.</summary>
    public const double GapFloor = 1e-6;

    internal ConsistencyResult(MetricValue consistency, MetricValue keptFraction, MetricValue scoreGap)
    {
        Consistency = consistency;
        KeptFraction = keptFraction;
        ScoreGap = scoreGap;
    }

    /// <summary>C(E) per row (rows whose prediction no fraction keeps are left out; see <see cref="KeptFraction"/>'s count).</summary>
    public MetricValue Consistency { get; }

    /// <summary>|S|: the share of pixels the explanation E keeps.</summary>
    public MetricValue KeptFraction { get; }

    /// <summary>|f(E) − f(X)|: the L1 distance between E's and the whole image's probability vectors.</summary>
    public MetricValue ScoreGap { get; }
}
