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
}
