namespace Microsoft.ML.Masking.Masks;

/// <summary>What the regions a mask transform is given (boxes, segment ids) mean.</summary>
public enum MaskSelection
{
    /// <summary>The given regions are removed (0); every other pixel is kept (1).</summary>
    Remove,

    /// <summary>Only the given regions are kept (1); every other pixel is removed (0).</summary>
    Keep,
}
