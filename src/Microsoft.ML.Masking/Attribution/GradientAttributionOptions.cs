using Microsoft.ML.Masking.Attribution.Engine;

namespace Microsoft.ML.Masking.Attribution;

/// <summary>Settings of the gradient methods (TorchSharp networks only). Every property documents its default.</summary>
public abstract class GradientAttributionOptions : AttributionOptions
{
    /// <summary>The output explained. Default: <see cref="ScoreKind.Logit"/> (Captum's usual choice).</summary>
    public ScoreKind Output { get; set; } = ScoreKind.Logit;

    /// <summary>How C×H×W attributions are reduced per pixel. Default: <see cref="ChannelReduction.None"/> (C×H×W).</summary>
    public ChannelReduction ChannelReduction { get; set; } = ChannelReduction.None;

    /// <summary>Wraps the method in a NoiseTunnel (SmoothGrad, SmoothGrad², VarGrad). Default: null (no noise).</summary>
    public NoiseTunnelOptions? NoiseTunnel { get; set; }

    /// <summary>
    /// A keep-mask column (H×W floats, 1 kept, 0 removed; e.g. from <c>mlContext.Transforms.BoxMask</c>): gradients are
    /// then taken through the layer-masked network, so the gradient of the kept pixels is taken without the removed
    /// ones — removed pixels get zero attribution and their values do not reach the kept pixels' attributions — and the
    /// predicted class is that of the kept pixels. The network must be one layer masking supports; not for Grad-CAM.
    /// Default: null (the plain network).
    /// </summary>
    public string? KeepMaskColumnName { get; set; }

    internal override void Validate()
    {
        base.Validate();
        if (Classifier is null)
            throw new ArgumentException($"{MethodName} needs gradients: set {MethodName}Options.{nameof(Classifier)} (a trained classifier's .Classifier, or ImageClassifier.FromModule).", nameof(Classifier));
        if (!Enum.IsDefined(Output)) throw new ArgumentOutOfRangeException(nameof(Output), Output, "Unknown output.");
        if (!Enum.IsDefined(ChannelReduction)) throw new ArgumentOutOfRangeException(nameof(ChannelReduction), ChannelReduction, "Unknown reduction.");
        NoiseTunnel?.Validate();
        if (KeepMaskColumnName is not null && string.IsNullOrWhiteSpace(KeepMaskColumnName))
            throw new ArgumentException("The keep-mask column name is blank; set a column or null.", nameof(KeepMaskColumnName));
        if (KeepMaskColumnName is not null && this is GradCamOptions)
            throw new ArgumentException("Grad-CAM reads a layer of the plain network; it does not take a keep-mask column.", nameof(KeepMaskColumnName));
    }
}

/// <summary>NoiseTunnel settings (Captum's <c>NoiseTunnel</c>). Every property documents its default.</summary>
public sealed class NoiseTunnelOptions
{
    /// <summary>How the noisy copies' attributions are combined. Default: <see cref="NoiseTunnelKind.SmoothGrad"/>.</summary>
    public NoiseTunnelKind Kind { get; set; } = NoiseTunnelKind.SmoothGrad;

    /// <summary>Noisy copies per image. Default: 10 (Captum: 5).</summary>
    public int Samples { get; set; } = 10;

    /// <summary>σ of the noise as a fraction of each image's value range (SmoothGrad's 10–20 %). Default: 0.15.</summary>
    public double NoiseFraction { get; set; } = 0.15;

    internal void Validate()
    {
        if (!Enum.IsDefined(Kind)) throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "Unknown NoiseTunnel kind.");
        if (Samples < 1) throw new ArgumentOutOfRangeException(nameof(Samples), Samples, "NoiseTunnel needs at least one sample.");
        if (!(NoiseFraction >= 0) || !double.IsFinite(NoiseFraction))
            throw new ArgumentOutOfRangeException(nameof(NoiseFraction), NoiseFraction, "must be finite and non-negative");
    }
}

/// <summary>Saliency |∂f/∂x|. Every property documents its default.</summary>
public sealed class SaliencyOptions : GradientAttributionOptions
{
    /// <summary>Return |∂f/∂x| (Captum's default) rather than the signed gradient. Default: true.</summary>
    public bool Absolute { get; set; } = true;

    internal override string MethodName => "Saliency";
}

/// <summary>Input × Gradient. Every property documents its default.</summary>
public sealed class InputXGradientOptions : GradientAttributionOptions
{
    internal override string MethodName => "InputXGradient";
}

/// <summary>Integrated Gradients. Every property documents its default.</summary>
public sealed class IntegratedGradientsOptions : GradientAttributionOptions
{
    /// <summary>Integration steps (Captum's <c>n_steps</c>). Default: 50.</summary>
    public int Steps { get; set; } = 50;

    /// <summary>The integration rule. Default: <see cref="IntegrationRule.GaussLegendre"/> (Captum's default).</summary>
    public IntegrationRule Rule { get; set; } = IntegrationRule.GaussLegendre;

    /// <summary>The path's start. Default: <see cref="AttributionBaseline.Black"/> (Captum's zeros, in pixel space).</summary>
    public AttributionBaseline Baseline { get; set; } = AttributionBaseline.Black;

    /// <summary>
    /// Output column of the completeness (convergence) delta Σ attribution − (f(x) − f(baseline)) per row, or null for
    /// none. Ignored under a NoiseTunnel. Default: "CompletenessDelta".
    /// </summary>
    public string? DeltaColumnName { get; set; } = "CompletenessDelta";

    internal override string MethodName => "IntegratedGradients";

    internal override void Validate()
    {
        base.Validate();
        if (!Enum.IsDefined(Rule)) throw new ArgumentOutOfRangeException(nameof(Rule), Rule, "Unknown integration rule.");
        if (!Enum.IsDefined(Baseline)) throw new ArgumentOutOfRangeException(nameof(Baseline), Baseline, "Unknown baseline.");
        int minimum = Rule == IntegrationRule.GaussLegendre ? 1 : 2;
        if (Steps < minimum)
            throw new ArgumentOutOfRangeException(nameof(Steps), Steps, $"Integrated Gradients with {Rule} needs at least {minimum} steps.");
    }
}

/// <summary>GradientSHAP. Every property documents its default.</summary>
public sealed class GradientShapOptions : GradientAttributionOptions
{
    /// <summary>The baseline distribution, drawn from uniformly. Default: black and uniform noise.</summary>
    public IReadOnlyList<AttributionBaseline> Baselines { get; set; } = [AttributionBaseline.Black, AttributionBaseline.Uniform];

    /// <summary>Draws per row (Captum's <c>n_samples</c> is 5). Default: 20.</summary>
    public int Samples { get; set; } = 20;

    /// <summary>σ of the input noise as a fraction of the image's range (Captum's <c>stdevs</c>). Default: 0.</summary>
    public double NoiseFraction { get; set; }

    internal override string MethodName => "GradientShap";

    internal override void Validate()
    {
        base.Validate();
        if (Baselines is null || Baselines.Count == 0) throw new ArgumentException("GradientSHAP needs at least one baseline.", nameof(Baselines));
        if (Samples < 1) throw new ArgumentOutOfRangeException(nameof(Samples), Samples, "GradientSHAP needs at least one sample.");
        if (!(NoiseFraction >= 0) || !double.IsFinite(NoiseFraction))
            throw new ArgumentOutOfRangeException(nameof(NoiseFraction), NoiseFraction, "must be finite and non-negative");
    }
}

/// <summary>Grad-CAM on a named layer. Every property documents its default.</summary>
public sealed class GradCamOptions : GradientAttributionOptions
{
    /// <summary>Module path of the layer, e.g. "layer3" or "layer2.1" (an unknown name is an error that lists the candidates). Default: "layer3".</summary>
    public string LayerName { get; set; } = "layer3";

    /// <summary>Apply a ReLU to the map (the paper's choice; Captum's default is false). Default: true.</summary>
    public bool Relu { get; set; } = true;

    internal override string MethodName => "GradCam";

    internal override void Validate()
    {
        base.Validate();
        ArgumentException.ThrowIfNullOrWhiteSpace(LayerName, nameof(LayerName));
    }
}
