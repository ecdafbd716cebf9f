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
}
