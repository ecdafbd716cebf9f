namespace Microsoft.ML.Masking.Ensemble;

/// <summary>How a dynamic-mask ensemble gates the feature maps of members 1, 2, … .</summary>
public enum EnsembleGating
{
    /// <summary>
    /// A small gating network per member, trained with it, maps the earlier members' per-input channel importances
    /// to a gate in (0, 1) per channel of the member's last feature map (initialised open).
    /// </summary>
    Learned,

    /// <summary>No gate: every member sees all its features (the "gate off" ablation; a deep ensemble when distillation is off too).</summary>
    Off,

    /// <summary>
    /// A fixed rule, nothing learned, per position of the last feature map. Channel identities differ between
    /// independently trained members, so no rule over channel indices means anything; positions do not: position (y, x)
    /// of every member's last map looks at the same part of the same image. Each earlier member's class-evidence map for
    /// its own predicted class (Σ_c W[k̂, c]·activation[c, y, x], with its own gate) becomes a concentration R (1 where its
    /// positive evidence is spread evenly, or where it has none; h·w where one position holds all of it); member i's map
    /// is multiplied by sigmoid((θ − R̄)/T), R̄ the earlier members' mean, θ = <see cref="DynamicMaskEnsembleTrainer.Options.SpatialGateThreshold"/>,
    /// T = <see cref="DynamicMaskEnsembleTrainer.Options.SpatialGateTemperature"/>: the places the earlier members relied on are
    /// closed, so member i has to find its evidence elsewhere (at training and inference alike). Gates are [members, h, w].
    /// </summary>
    FixedSpatial,

    /// <summary>
    /// A learned gate per position of the last feature map: a 3×3 convolution, trained with member i, from the earlier
    /// members' evidence concentrations (those of <see cref="FixedSpatial"/>) to a gate in (0, 1) per position,
    /// initialised open (weights 0, bias <see cref="DynamicMaskEnsembleTrainer.Options.GateInitialBias"/>). Gates are [members, h, w].
    /// </summary>
    LearnedSpatial,
}
