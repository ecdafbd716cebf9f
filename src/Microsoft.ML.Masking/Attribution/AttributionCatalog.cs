using Microsoft.ML.Masking.Attribution;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Runtime;

namespace Microsoft.ML;

/// <summary>
/// The attribution (feature-importance) estimators for image models: <c>mlContext.Transforms.Attribution().Lime(...)</c>.
/// Each adds an attribution column explaining the model's score for a target class; gradient methods need a TorchSharp
/// network, perturbation methods work on any ML.NET transformer that maps the image column to a score vector.
/// </summary>
public sealed class AttributionCatalog
{
    private readonly IHostEnvironment _env;

    internal AttributionCatalog(IHostEnvironment env) => _env = env;

    /// <summary>Saliency, |∂f/∂x| (pixel-level).</summary>
    public AttributionEstimator Saliency(SaliencyOptions options) => new(_env, options);

    /// <summary>Input × Gradient (pixel-level).</summary>
    public AttributionEstimator InputXGradient(InputXGradientOptions options) => new(_env, options);

    /// <summary>Integrated Gradients with its completeness delta per row (pixel-level).</summary>
    public AttributionEstimator IntegratedGradients(IntegratedGradientsOptions options) => new(_env, options);

    /// <summary>GradientSHAP (pixel-level).</summary>
    public AttributionEstimator GradientShap(GradientShapOptions options) => new(_env, options);

    /// <summary>Grad-CAM on a named layer, upsampled to the image.</summary>
    public AttributionEstimator GradCam(GradCamOptions options) => new(_env, options);

    /// <summary>Occlusion with a sliding window.</summary>
    public AttributionEstimator Occlusion(OcclusionOptions options) => new(_env, options);

    /// <summary>Feature ablation over segments.</summary>
    public AttributionEstimator FeatureAblation(FeatureAblationOptions options) => new(_env, options);

    /// <summary>RISE (randomised input sampling).</summary>
    public AttributionEstimator Rise(RiseOptions options) => new(_env, options);

    /// <summary>LIME over segments, with the surrogate's weighted R² per row.</summary>
    public AttributionEstimator Lime(LimeOptions options) => new(_env, options);

    /// <summary>KernelSHAP over segments.</summary>
    public AttributionEstimator KernelShap(KernelShapOptions options) => new(_env, options);
}

/// <summary>Adds <see cref="AttributionCatalog"/> to ML.NET's transforms catalog.</summary>
public static class AttributionCatalogExtensions
{
    /// <summary>The attribution estimators: <c>mlContext.Transforms.Attribution().IntegratedGradients(...)</c>.</summary>
    public static AttributionCatalog Attribution(this TransformsCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new AttributionCatalog(CatalogEnvironment.Of(catalog));
    }
}
