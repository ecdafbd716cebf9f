namespace Microsoft.ML.Masking.Core.Segmentation;

/// <summary>What an image is cut into before a fraction of it is removed.</summary>
public enum SegmentationKind
{
    /// <summary>Square patches of <see cref="SegmentationOptions.PatchSize"/> pixels (the paper's choice: 16×16 on 224×224).</summary>
    Patches,
    /// <summary>SLIC superpixels, computed per image (<see cref="SegmentationOptions.SuperpixelCount"/>, <see cref="SegmentationOptions.Compactness"/>).</summary>
    Superpixels,
    /// <summary>A segmentation given per row in the column <see cref="SegmentationOptions.ColumnName"/>.</summary>
    Column,
}
