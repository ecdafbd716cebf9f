using System.Text.Json.Nodes;

namespace Microsoft.ML.Masking.Attribution.Metrics;

/// <summary>One step of the cascading model-parameter randomisation: the layers randomised so far and how much the attributions still agree.</summary>
/// <param name="Layer">The top-level module randomised at this step (every module above it is randomised too).</param>
/// <param name="RankCorrelation">Spearman's ρ between each row's |attribution| under the trained and the randomised network.</param>
public sealed record RandomizationStep(string Layer, MetricValue RankCorrelation);

/// <summary>
/// Cascading model-parameter randomisation (Adebayo et al. 2018): layers are re-initialised from the top down and the
/// method re-run; a method that explains the model should lose its agreement with the trained model's attributions
/// as more layers are randomised (ρ well below 1).
/// </summary>
public sealed class RandomizationResult
{
    internal RandomizationResult(string method, IReadOnlyList<RandomizationStep> steps)
    {
        Method = method;
        Steps = steps;
    }

    /// <summary>The attribution method checked.</summary>
    public string Method { get; }

    /// <summary>One entry per randomised layer, top first.</summary>
    public IReadOnlyList<RandomizationStep> Steps { get; }

    /// <summary>The steps as JSON.</summary>
    public JsonObject ToJson() => new()
    {
        ["method"] = Method,
        ["steps"] = new JsonArray(Steps.Select(s => (JsonNode)new JsonObject
        {
            ["layer"] = s.Layer,
            ["spearman_mean"] = double.IsFinite(s.RankCorrelation.Mean) ? Math.Round(s.RankCorrelation.Mean, 6) : null,
            ["spearman_standard_error"] = double.IsFinite(s.RankCorrelation.StandardError) ? Math.Round(s.RankCorrelation.StandardError, 6) : null,
            ["count"] = s.RankCorrelation.Count,
        }).ToArray()),
    };
}
