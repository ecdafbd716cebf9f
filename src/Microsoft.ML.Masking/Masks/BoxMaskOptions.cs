namespace Microsoft.ML.Masking.Masks;

/// <summary>
/// A keep-mask from rectangles, the same for every row (occlusion of a fixed region). The mask is height × width
/// floats, row-major, 1 = keep (see <see cref="KeepMaskOptions"/>). Every property documents its default.
/// </summary>
public sealed class BoxMaskOptions : KeepMaskOptions
{
    /// <summary>
    /// The image column the masks are for (e.g. ExtractPixels' output): its dimensions give the mask size when
    /// <see cref="KeepMaskOptions.ImageWidth"/> and <see cref="KeepMaskOptions.ImageHeight"/> are 0, and a mask is
    /// written for each of its rows. Default: "Pixels".
    /// </summary>
    public string InputColumnName { get; set; } = "Pixels";

    /// <summary>The rectangles, each wholly inside the image; they may overlap. At least one. Default: empty.</summary>
    public IReadOnlyList<MaskBox> Boxes { get; set; } = [];

    /// <summary>Whether the boxes are removed or are all that is kept. Default: <see cref="MaskSelection.Remove"/>.</summary>
    public MaskSelection Selection { get; set; } = MaskSelection.Remove;
}
