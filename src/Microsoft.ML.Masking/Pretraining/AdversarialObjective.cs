namespace Microsoft.ML.Masking.Pretraining;

/// <summary>What the masking network is trained to do.</summary>
public enum AdversarialObjective
{
    /// <summary>
    /// Maximise the reconstruction error of the patches it picks: the adversarial term is the negated expected error
    /// of a picked removed patch, with the errors held constant, so the masking network climbs the error while the
    /// autoencoder still minimises it. The default.
    /// </summary>
    MaximizeReconstructionError,

    /// <summary>
    /// The seed document's literal <c>Total = Reconstruction + λ · Adversarial</c>, minimised with respect to both
    /// networks: the masking network then learns to pick easy patches. Offered as an ablation.
    /// </summary>
    SeedLiteral,
}
