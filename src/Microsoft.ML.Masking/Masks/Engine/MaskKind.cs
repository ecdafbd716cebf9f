namespace Microsoft.ML.Masking.Masks.Engine;

/// <summary>Which mask a <see cref="KeepMaskRecipe"/> makes.</summary>
internal enum MaskKind
{
    /// <summary>Fixed rectangles (<see cref="BoxMaskOptions"/>).</summary>
    Boxes,

    /// <summary>A random fraction of patches per row (<see cref="PatchGridMaskOptions"/>).</summary>
    PatchGrid,

    /// <summary>Chosen ids of a segment column (<see cref="SegmentMaskOptions"/>).</summary>
    Segments,

    /// <summary>Several keep-mask columns merged (<see cref="CombineMasksOptions"/>).</summary>
    Combine,

    /// <summary>A per-pixel map or mask image thresholded (<see cref="ThresholdMaskOptions"/>).</summary>
    Threshold,
}
