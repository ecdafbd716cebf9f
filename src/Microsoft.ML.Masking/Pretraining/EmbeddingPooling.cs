namespace Microsoft.ML.Masking.Pretraining;

/// <summary>How the pre-trained encoder's tokens become one embedding per image.</summary>
public enum EmbeddingPooling
{
    /// <summary>The CLS token after the encoder's final norm.</summary>
    ClsToken,

    /// <summary>The mean of the patch tokens after the encoder's final norm.</summary>
    MeanOfPatchTokens,
}
