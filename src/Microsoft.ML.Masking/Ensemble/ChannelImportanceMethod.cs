namespace Microsoft.ML.Masking.Ensemble;

/// <summary>
/// How a <see cref="DynamicMaskEnsembleTrainer"/> records each member's per-channel importance at its last feature map
/// (the record that distillation's top channels are taken from).
/// </summary>
public enum ChannelImportanceMethod
{
    /// <summary>
    /// The exact contribution of a global-average-pool + linear head: pooled activation × class weight, which sums to
    /// the logit minus the bias. No baseline, no sampling.
    /// </summary>
    Exact,

    /// <summary>
    /// Layer Integrated Gradients from the attribution catalog's engine at the (gated) last feature map, summed over
    /// positions. With the <see cref="Attribution.Engine.AttributionBaseline.Zero"/> baseline it equals
    /// <see cref="Exact"/> (the head is linear); with an image baseline it is the contribution relative to that image's
    /// features: activation(x) − activation(baseline), times the class weight.
    /// </summary>
    LayerIntegratedGradients,

    /// <summary>
    /// Layer GradientSHAP from the attribution catalog's engine at the (gated) last feature map, summed over positions:
    /// the contribution relative to baselines drawn at random (and inputs with optional noise), a Monte Carlo estimate.
    /// </summary>
    LayerGradientShap,
}
