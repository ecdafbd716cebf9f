using static TorchSharp.torch;
using Microsoft.ML.Masking.Core;
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

    /// <summary>The method <paramref name="options"/> describe, on <paramref name="classifier"/> (gradient methods) or <paramref name="scorer"/> (perturbation methods).</summary>
    public static IAttributionMethod Create(AttributionOptions options, ImageClassifier? classifier, Device device, IPerturbationScorer? scorer)
    {
        int batch = options.InternalBatchSize, seed = options.Seed;
        switch (options)
        {
            case GradientAttributionOptions g:
            {
                var c = classifier ?? throw new InvalidOperationException($"{g.MethodName} needs a TorchSharp network.");
                bool masked = g.KeepMaskColumnName is not null;
                IAttributionMethod method = g switch
                {
                    SaliencyOptions s => new Saliency(c, s.Output, batch, s.Absolute, device, masked),
                    InputXGradientOptions => new InputXGradient(c, g.Output, batch, device, masked),
                    IntegratedGradientsOptions ig => new IntegratedGradients(c, ig.Steps, ig.Rule, ig.Baseline, ig.Output, batch, seed, device, masked),
                    GradientShapOptions gs => new GradientShap(c, gs.Baselines, gs.Samples, gs.NoiseFraction, gs.Output, batch, seed, device, masked),
                    GradCamOptions cam => new GradCam(c, cam.LayerName, cam.Relu, cam.Output, batch, device),
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
                    LimeOptions l => new Lime(s, l.Samples, l.KernelWidth, l.Surrogate, l.Alpha, batch, seed, l.ShareSamplesAcrossRows),
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
