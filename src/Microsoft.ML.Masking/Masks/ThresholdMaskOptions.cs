namespace Microsoft.ML.Masking.Masks;

/// <summary>
/// A keep-mask from an image of the mask (a PNG painted white where kept) or any per-pixel map: a pixel is kept
/// when the mean of its channels is at least <see cref="Threshold"/>. For mask files use
/// <see cref="MaskCatalog.LoadImageMask"/>, which chains LoadImages → ResizeImages → ExtractPixels before it. The
/// mask is height × width floats, row-major, 1 = keep (see <see cref="KeepMaskOptions"/>).
/// </summary>
public sealed class ThresholdMaskOptions : KeepMaskOptions
{
    /// <summary>
    /// The input column: planar C × H × W floats (ExtractPixels' layout, dimensions [C, H, W]) or H × W floats
    /// (dimensions [H, W]). Without dimensions, give <see cref="KeepMaskOptions.ImageWidth"/> and
    /// <see cref="KeepMaskOptions.ImageHeight"/>; the size must then be a whole number of H × W planes. Default: "MaskPixels".
    /// </summary>
    public string InputColumnName { get; set; } = "MaskPixels";

    /// <summary>
    /// The channel mean at or above which a pixel is kept, on the input's own scale (pixels in [0, 1], as
    /// LoadImagePixels and LoadImageMask write them: 0.5 is mid-grey; ExtractPixels without scaling gives 0–255).
    /// Must be finite. Default: 0.5.
    /// </summary>
    public float Threshold { get; set; } = 0.5f;

    /// <summary>When true, pixels at or above the threshold are removed instead (a mask painted white where removed). Default: false.</summary>
    public bool Invert { get; set; }
}
