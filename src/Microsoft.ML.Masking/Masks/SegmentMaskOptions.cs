namespace Microsoft.ML.Masking.Masks;

/// <summary>
/// A keep-mask from a segment column: per-pixel segment ids (non-negative whole numbers stored as floats, height ×
/// width, row-major — a SLIC or user segmentation), with the chosen ids removed or kept. Choosing several ids makes
/// the mask of their union. The mask is height × width floats, row-major, 1 = keep (see <see cref="KeepMaskOptions"/>).
/// </summary>
public sealed class SegmentMaskOptions : KeepMaskOptions
{
    /// <summary>
    /// The segment-id column: a known-size float vector of height × width ids (its [H, W] dimensions give the size
    /// when <see cref="KeepMaskOptions.ImageWidth"/> and <see cref="KeepMaskOptions.ImageHeight"/> are 0). Default: "Segments".
    /// </summary>
    public string InputColumnName { get; set; } = "Segments";

    /// <summary>
    /// The segment ids removed or kept, non-negative whole numbers; an id absent from an image leaves that image
    /// unchanged by it. At least one. Default: empty.
    /// </summary>
    public IReadOnlyList<int> SegmentIds { get; set; } = [];

    /// <summary>Whether the chosen segments are removed or are all that is kept. Default: <see cref="MaskSelection.Remove"/>.</summary>
    public MaskSelection Selection { get; set; } = MaskSelection.Remove;
}
