namespace Microsoft.ML.Masking.Core.Segmentation;

/// <summary>How images are cut into the segments an evaluation removes. Every property documents its default.</summary>
public sealed class SegmentationOptions
{
    /// <summary>The kind of segments. Default: <see cref="SegmentationKind.Patches"/>.</summary>
    public SegmentationKind Kind { get; set; } = SegmentationKind.Patches;

    /// <summary>
    /// Side of a square patch in pixels (<see cref="SegmentationKind.Patches"/>). When it does not divide the image,
    /// the last row and column of patches are narrower. Default: 16 (the paper's patch on 224×224 images; use about
    /// 4 for 28×28 images).
    /// </summary>
    public int PatchSize { get; set; } = 16;

    /// <summary>Superpixels asked for per image (<see cref="SegmentationKind.Superpixels"/>); SLIC returns about this many. Default: 50.</summary>
    public int SuperpixelCount { get; set; } = 50;

    /// <summary>
    /// SLIC's weight of position against colour, with colours rescaled to [0, 1] per image; larger gives squarer
    /// superpixels. Default: 0.1.
    /// </summary>
    public double Compactness { get; set; } = 0.1;

    /// <summary>SLIC's k-means iterations. Default: 10.</summary>
    public int SuperpixelIterations { get; set; } = 10;

    /// <summary>
    /// Column of per-pixel segment ids (<see cref="SegmentationKind.Column"/>): a known-size vector of
    /// <see cref="float"/> with height × width non-negative whole numbers. Default: "Segments".
    /// </summary>
    public string ColumnName { get; set; } = "Segments";

    /// <summary>A short description, e.g. "4×4 patches" or "~50 SLIC superpixels".</summary>
    public override string ToString() => Kind switch
    {
        SegmentationKind.Patches => $"{PatchSize}×{PatchSize} patches",
        SegmentationKind.Superpixels => $"~{SuperpixelCount} SLIC superpixels",
        _ => $"segments from column '{ColumnName}'",
    };

    internal void Validate(int height, int width)
    {
        switch (Kind)
        {
            case SegmentationKind.Patches:
                if (PatchSize < 1 || PatchSize > Math.Max(height, width))
                    throw new ArgumentOutOfRangeException(nameof(PatchSize), PatchSize, $"The patch size must be between 1 and the image side ({height}×{width}).");
                break;
            case SegmentationKind.Superpixels:
                if (SuperpixelCount < 1 || SuperpixelCount > height * width)
                    throw new ArgumentOutOfRangeException(nameof(SuperpixelCount), SuperpixelCount, $"Ask for between 1 and {height * width} superpixels.");
                if (!(Compactness > 0) || !double.IsFinite(Compactness))
                    throw new ArgumentOutOfRangeException(nameof(Compactness), Compactness, "Compactness must be positive and finite.");
                if (SuperpixelIterations < 1)
                    throw new ArgumentOutOfRangeException(nameof(SuperpixelIterations), SuperpixelIterations, "At least one iteration.");
                break;
            case SegmentationKind.Column:
                ArgumentException.ThrowIfNullOrWhiteSpace(ColumnName, nameof(ColumnName));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "Unknown segmentation kind.");
        }
    }
}
