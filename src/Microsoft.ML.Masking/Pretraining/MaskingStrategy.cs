namespace Microsoft.ML.Masking.Pretraining;

/// <summary>How the masked autoencoder chooses the patches it hides.</summary>
public enum MaskingStrategy
{
    /// <summary>Uniformly random patches, as MAE: per-image noise, sorted, the largest removed.</summary>
    Random,

    /// <summary>A share α of the removed patches chosen by the Adversarial Masking Network, the rest random.</summary>
    Adversarial,
}
