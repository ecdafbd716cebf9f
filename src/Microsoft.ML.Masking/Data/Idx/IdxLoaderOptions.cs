namespace Microsoft.ML.Masking.Data;

/// <summary>
/// How an IDX image/label file pair becomes an <see cref="IDataView"/>. Pixel values are mapped as
/// ImageAnalytics' <c>ExtractPixels</c> maps them: <c>(pixel - OffsetImage) * ScaleImage</c>.
/// </summary>
public sealed class IdxLoaderOptions
{
    /// <summary>Name of the image column: a float vector of rows × columns values, row-major (one channel). Default: "Image".</summary>
    public string ImageColumnName { get; set; } = "Image";

    /// <summary>Name of the label column: a key over <see cref="ClassNames"/>. Default: "Label".</summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>Subtracted from each pixel before scaling. Default: 0.</summary>
    public float OffsetImage { get; set; }

    /// <summary>Multiplies each pixel after the offset. Default: 1/255, so bytes become values in [0, 1].</summary>
    public float ScaleImage { get; set; } = 1f / 255f;

    /// <summary>
    /// The names of the classes, in label order; they become the key values of the label column. Every label
    /// must be below their count. Default: null, meaning "0", "1", … up to the largest label in the file.
    /// </summary>
    public IReadOnlyList<string>? ClassNames { get; set; }
}
