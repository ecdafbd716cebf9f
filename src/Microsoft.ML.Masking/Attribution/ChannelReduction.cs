namespace Microsoft.ML.Masking.Attribution;

/// <summary>How a pixel-level gradient attribution (C×H×W) is reduced to one value per pixel.</summary>
public enum ChannelReduction
{
    /// <summary>Keep every channel: the column holds C×H×W values, planar like the image.</summary>
    None,

    /// <summary>The sum over channels (keeps the sign; the per-pixel share of a completeness sum).</summary>
    Sum,

    /// <summary>The sum of absolute values over channels.</summary>
    AbsoluteSum,

    /// <summary>The largest absolute value over channels (Simonyan et al.'s saliency map).</summary>
    MaxAbsolute,
}
