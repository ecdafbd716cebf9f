namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>Which output of a classifier an attribution explains.</summary>
public enum ScoreKind
{
    /// <summary>The target class's logit (pre-softmax score), Captum's usual choice for gradient methods.</summary>
    Logit,

    /// <summary>The target class's softmax probability, what an ML.NET Score column holds.</summary>
    Probability,
}
