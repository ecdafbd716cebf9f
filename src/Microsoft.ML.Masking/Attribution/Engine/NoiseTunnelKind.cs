namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>How <see cref="NoiseTunnel"/> combines the attributions of the noisy copies (Captum's <c>nt_type</c>).</summary>
public enum NoiseTunnelKind
{
    /// <summary>The mean (SmoothGrad, Smilkov et al. 2017; "smoothgrad").</summary>
    SmoothGrad,

    /// <summary>The mean of the squares ("smoothgrad_sq").</summary>
    SmoothGradSquared,

    /// <summary>The variance, mean of squares minus squared mean (VarGrad, Adebayo et al. 2018; "vargrad").</summary>
    VarGrad,
}
