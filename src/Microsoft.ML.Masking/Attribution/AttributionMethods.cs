using Microsoft.ML.Masking.Attribution.Engine;

namespace Microsoft.ML.Masking.Attribution;

/// <summary>Builds the engine method an options object describes, and names the option classes for persistence.</summary>
internal static class AttributionMethods
{
    /// <summary>The options class of each method name (the name saved in model.zip).</summary>
    public static readonly IReadOnlyDictionary<string, Type> OptionTypes = new Dictionary<string, Type>
    {
        ["Saliency"] = typeof(SaliencyOptions),
        ["InputXGradient"] = typeof(InputXGradientOptions),
        ["IntegratedGradients"] = typeof(IntegratedGradientsOptions),
        ["GradientShap"] = typeof(GradientShapOptions),
        ["GradCam"] = typeof(GradCamOptions),
        ["Occlusion"] = typeof(OcclusionOptions),
        ["FeatureAblation"] = typeof(FeatureAblationOptions),
        ["Rise"] = typeof(RiseOptions),
        ["Lime"] = typeof(LimeOptions),
        ["KernelShap"] = typeof(KernelShapOptions),
    };

    public static IAttributionMethod Create(AttributionOptions options, TorchClassifier? torch, IPerturbationScorer? scorer)
    {
        int batch = options.InternalBatchSize, seed = options.Seed;
        switch (options)
        {
            case GradientAttributionOptions g:
            {
                var classifier = torch ?? throw new InvalidOperationException($"{g.MethodName} needs a TorchSharp network.");
                IAttributionMethod method = g switch
                {
                    SaliencyOptions s => new Saliency(classifier, s.Output, batch, s.Absolute),
                    InputXGradientOptions => new InputXGradient(classifier, g.Output, batch),
                    IntegratedGradientsOptions ig => new IntegratedGradients(classifier, ig.Steps, ig.Rule, ig.Baseline, ig.Output, batch, seed),
                    GradientShapOptions gs => new GradientShap(classifier, gs.Baselines, gs.Samples, gs.NoiseFraction, gs.Output, batch, seed),
                    GradCamOptions cam => new GradCam(classifier, cam.LayerName, cam.Relu, cam.Output, batch),
                    _ => throw new NotSupportedException($"Unknown gradient method {g.GetType().Name}."),
                };
                return g.NoiseTunnel is { } nt ? new NoiseTunnel(method, nt.Kind, nt.Samples, nt.NoiseFraction, seed) : method;
            }
            case PerturbationAttributionOptions p:
            {
                var s = scorer ?? throw new InvalidOperationException($"{p.MethodName} needs a scorer.");
                return p switch
                {
                    OcclusionOptions o => new Occlusion(s, o.Window, o.Stride ?? o.Window, batch, seed),
                    FeatureAblationOptions => new FeatureAblation(s, batch, seed),
                    RiseOptions r => new Rise(s, r.MaskCount, r.CellSize, r.KeepProbability, batch, seed),
                    LimeOptions l => new Lime(s, l.Samples, l.KernelWidth, l.Surrogate, l.Alpha, batch, seed),
                    KernelShapOptions k => new KernelShap(s, k.Samples, batch, seed),
                    _ => throw new NotSupportedException($"Unknown perturbation method {p.GetType().Name}."),
                };
            }
            default:
                throw new NotSupportedException($"Unknown attribution options {options.GetType().Name}.");
        }
    }

    /// <summary>A detached copy of <paramref name="options"/> (its data settings; the model properties are not copied).</summary>
    public static AttributionOptions Clone(AttributionOptions options) =>
        (AttributionOptions)System.Text.Json.JsonSerializer.Deserialize(
            System.Text.Json.JsonSerializer.Serialize(options, options.GetType(), Core.Persistence.ModelJson.Options), options.GetType(), Core.Persistence.ModelJson.Options)!;

    /// <summary>The per-row diagnostic column of a method, or null.</summary>
    public static string? RowValueColumn(AttributionOptions options) => options switch
    {
        IntegratedGradientsOptions { NoiseTunnel: null } ig => ig.DeltaColumnName,
        LimeOptions l => l.SurrogateR2ColumnName,
        _ => null,
    };

    /// <summary>Whether the attribution keeps one value per channel.</summary>
    public static bool IsPixelLevel(AttributionOptions options) =>
        options is GradientAttributionOptions g and not GradCamOptions && g.ChannelReduction == ChannelReduction.None;
}
