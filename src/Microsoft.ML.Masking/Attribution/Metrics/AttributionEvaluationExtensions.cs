using Microsoft.ML.Masking.Attribution.Metrics;

namespace Microsoft.ML;

/// <summary>Entry point of the attribution metrics: <c>mlContext.AttributionEvaluation()</c>.</summary>
public static class AttributionEvaluationExtensions
{
    /// <summary>The attribution metrics (faithfulness, localisation, completeness, randomisation).</summary>
    /// <param name="mlContext">The ML.NET context: its GPU settings choose the device.</param>
    public static AttributionEvaluationCatalog AttributionEvaluation(this MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new AttributionEvaluationCatalog(mlContext);
    }
}
