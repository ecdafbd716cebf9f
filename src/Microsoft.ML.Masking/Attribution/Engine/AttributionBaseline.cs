namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>The reference image a path method (Integrated Gradients, GradientSHAP) starts from.</summary>
public enum AttributionBaseline
{
    /// <summary>Pixel value 0 in every channel.</summary>
    Black,

    /// <summary>The data set's mean colour (the normalisation's per-channel mean): "grey", 0 after normalisation.</summary>
    Mean,

    /// <summary>Uniform noise in [0, 1] per pixel and channel, drawn from the row's seed (a different image per row and sample).</summary>
    Uniform,

    /// <summary>
    /// The zero tensor at the attributed point (Captum's default baselines): for an input attribution pixel value 0, the
    /// same image as <see cref="Black"/>; for a layer attribution the zero activation at that layer (no evidence in any
    /// channel), not the activation of a black image.
    /// </summary>
    Zero,
}
