using Microsoft.ML.Masking.Evaluation;

namespace Microsoft.ML;

/// <summary>Entry point of the masking evaluators: <c>mlContext.MaskingEvaluation()</c>.</summary>
public static class MaskingEvaluationExtensions
{
    /// <summary>The missingness-bias evaluators (feature-removal curves, mask-shape bias, mask-colour dependence).</summary>
    /// <param name="mlContext">The ML.NET context: its log receives progress, its GPU settings choose the device.</param>
    public static MaskingEvaluationCatalog MaskingEvaluation(this MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new MaskingEvaluationCatalog(mlContext);
    }
}
