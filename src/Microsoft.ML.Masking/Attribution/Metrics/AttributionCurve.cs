namespace Microsoft.ML.Masking.Attribution.Metrics;

/// <summary>A faithfulness curve: the target class's mean score after removing (or keeping) each fraction of the segments, by relevance.</summary>
public sealed class AttributionCurve
{
    internal AttributionCurve(AttributionCurveKind kind, string removal, IReadOnlyList<double> fractions, double[] means, double[] standardErrors, MetricValue area)
    {
        Kind = kind;
        Removal = removal;
        Fractions = fractions.ToArray();
        MeanScores = means;
        StandardErrors = standardErrors;
        AreaUnderCurve = area;
    }

    /// <summary>The curve's kind.</summary>
    public AttributionCurveKind Kind { get; }

    /// <summary>How pixels were removed ("LayerMasking", "Grey", …, "Road").</summary>
    public string Removal { get; }

    /// <summary>Fractions of the segments removed (deletion) or inserted (insertion).</summary>
    public IReadOnlyList<double> Fractions { get; }

    /// <summary>Mean target score at each fraction.</summary>
    public IReadOnlyList<double> MeanScores { get; }

    /// <summary>Standard error of each mean.</summary>
    public IReadOnlyList<double> StandardErrors { get; }

    /// <summary>The per-row area under the curve (trapezoid rule over the fractions, divided by their span), over rows.</summary>
    public MetricValue AreaUnderCurve { get; }
}
