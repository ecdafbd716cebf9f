namespace Microsoft.ML.Masking.Masks;

/// <summary>
/// A keep-mask that removes a random fraction of square patches, drawn anew for each row (random occlusion, the
/// masks of masked pre-training). The draw for a row is a pure function of <see cref="Seed"/> and the row's position
/// in the data view, so the masks are the same in any batch size, on any machine, after save and load. The mask is
/// height × width floats, row-major, 1 = keep (see <see cref="KeepMaskOptions"/>).
/// </summary>
public sealed class PatchGridMaskOptions : KeepMaskOptions
{
    /// <summary>
    /// The image column the masks are for: its dimensions give the mask size when
    /// <see cref="KeepMaskOptions.ImageWidth"/> and <see cref="KeepMaskOptions.ImageHeight"/> are 0. Default: "Pixels".
    /// </summary>
    public string InputColumnName { get; set; } = "Pixels";

    /// <summary>
    /// Side of a patch in pixels. Patches tile the image in raster order from the top-left; when the side does not
    /// divide the image, the last row and column of patches are narrower. Default: 8.
    /// </summary>
    public int PatchSize { get; set; } = 8;

    /// <summary>
    /// The fraction of patches removed from each image, in [0, 1]; round(fraction × patches) patches go (half away
    /// from zero), as in the feature-removal evaluation. Default: 0.5.
    /// </summary>
    public double RemoveFraction { get; set; } = 0.5;

    /// <summary>Seed of the draws. Default: 0.</summary>
    public int Seed { get; set; }
}
