using System.Text.Json.Nodes;

namespace Microsoft.ML.Masking.Attribution.Metrics;

/// <summary>Everything <c>mlContext.AttributionEvaluation().Evaluate</c> measured, each metric as mean ± standard error over rows.</summary>
public sealed class AttributionEvaluationResult
{
    internal AttributionEvaluationResult(long rows, double cleanAccuracy, IReadOnlyList<FaithfulnessResult> faithfulness,
        MetricValue? pointingGame, MetricValue? relevanceMass, MetricValue? relevanceRank, MetricValue? completeness, MetricValue? infidelity)
    {
        Rows = rows;
        CleanAccuracy = cleanAccuracy;
        Faithfulness = faithfulness;
        PointingGame = pointingGame;
        RelevanceMass = relevanceMass;
        RelevanceRank = relevanceRank;
        Completeness = completeness;
        Infidelity = infidelity;
    }

    /// <summary>Rows evaluated.</summary>
    public long Rows { get; }

    /// <summary>The classifier's accuracy on the whole images.</summary>
    public double CleanAccuracy { get; }

    /// <summary>Deletion/insertion curves and top-k ablation, one entry per removal method.</summary>
    public IReadOnlyList<FaithfulnessResult> Faithfulness { get; }

    /// <summary>The faithfulness metrics of removal <paramref name="removal"/> ("LayerMasking", "Grey", …, "Road").</summary>
    public FaithfulnessResult this[string removal] => Faithfulness.First(f => f.Removal == removal);

    /// <summary>Pointing game: the share of rows whose most relevant pixel lies on the object (null without object masks).</summary>
    public MetricValue? PointingGame { get; }

    /// <summary>Relevance mass: the share of positive relevance on the object (null without object masks).</summary>
    public MetricValue? RelevanceMass { get; }

    /// <summary>Relevance rank accuracy: the share of the object-sized top of the ranking on the object (null without object masks).</summary>
    public MetricValue? RelevanceRank { get; }

    /// <summary>Completeness, |Σ attribution − (f(x) − f(b))| / |f(x) − f(b)| (mean and max; null when not asked for).</summary>
    public MetricValue? Completeness { get; }

    /// <summary>
    /// Infidelity, E[(Iᵀφ − (f(x) − f(x − I)))²] on the target's logit under Gaussian input perturbations I (lower is
    /// better; null unless <see cref="AttributionEvaluationOptions.InfidelitySamples"/> is set).
    /// </summary>
    public MetricValue? Infidelity { get; }

    /// <summary>The metrics as JSON (invariant culture, NaN written as null).</summary>
    public JsonObject ToJson()
    {
        static JsonNode? Number(double v) => double.IsFinite(v) ? JsonValue.Create(Math.Round(v, 6)) : null;
        static JsonObject Metric(MetricValue m) => new() { ["mean"] = Number(m.Mean), ["standard_error"] = Number(m.StandardError), ["count"] = m.Count, ["max"] = Number(m.Max) };
        var faithfulness = new JsonObject();
        foreach (var f in Faithfulness)
        {
            var entry = new JsonObject();
            foreach (var c in f.Curves)
                entry[c.Kind.ToString()] = new JsonObject
                {
                    ["auc"] = Metric(c.AreaUnderCurve),
                    ["fractions"] = new JsonArray(c.Fractions.Select(Number).ToArray()),
                    ["mean_scores"] = new JsonArray(c.MeanScores.Select(Number).ToArray()),
                };
            entry["consistency"] = new JsonObject
            {
                ["c"] = Metric(f.Consistency.Consistency),
                ["kept_fraction"] = Metric(f.Consistency.KeptFraction),
                ["score_gap"] = Metric(f.Consistency.ScoreGap),
            };
            if (f.FaithfulnessCorrelation is not null) entry["faithfulness_correlation"] = Metric(f.FaithfulnessCorrelation);
            if (f.RemovalLinearity is not null) entry["removal_linearity_r2"] = Metric(f.RemovalLinearity);
            entry["top_k_ablation_accuracy"] = new JsonObject(f.TopKAblationAccuracy.Select(p => KeyValuePair.Create(p.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), (JsonNode?)Metric(p.Value))));
            faithfulness[f.Removal] = entry;
        }
        var json = new JsonObject { ["rows"] = Rows, ["clean_accuracy"] = Number(CleanAccuracy), ["faithfulness"] = faithfulness };
        if (PointingGame is not null) json["pointing_game"] = Metric(PointingGame);
        if (RelevanceMass is not null) json["relevance_mass"] = Metric(RelevanceMass);
        if (RelevanceRank is not null) json["relevance_rank"] = Metric(RelevanceRank);
        if (Completeness is not null) json["completeness_relative_delta"] = Metric(Completeness);
        if (Infidelity is not null) json["infidelity"] = Metric(Infidelity);
        return json;
    }
}
