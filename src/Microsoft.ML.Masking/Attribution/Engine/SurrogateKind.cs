namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>The interpretable model LIME fits to the perturbed scores.</summary>
public enum SurrogateKind
{
    /// <summary>Weighted ridge regression with an unpenalised intercept (the LIME package's default, α = 1).</summary>
    Ridge,

    /// <summary>Weighted lasso by coordinate descent (Captum's default surrogate, α = 0.01), sparse coefficients.</summary>
    Lasso,
}
