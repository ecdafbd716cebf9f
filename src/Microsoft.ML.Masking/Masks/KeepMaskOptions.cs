namespace Microsoft.ML.Masking.Masks;

/// <summary>
/// What every mask-making transform shares. Each writes a keep-mask column: a known-size vector of
/// <see cref="float"/> with height × width values, 1 where the pixel is kept and 0 where it is removed, stored
/// row-major (value <c>y · width + x</c> is the pixel in row y, column x, with (0, 0) top-left), annotated with
/// <c>VectorDataViewType.Dimensions</c> = [height, width]. That is the layout <c>LayerMask</c> and the evaluators
/// read.
/// </summary>
public abstract class KeepMaskOptions
{
    /// <summary>The keep-mask column to write. Default: "Mask".</summary>
    public string OutputColumnName { get; set; } = "Mask";

    /// <summary>
    /// Mask width in pixels, or 0 to take it from the input column's dimensions (ExtractPixels writes [C, H, W]).
    /// When both are known they must agree. Default: 0.
    /// </summary>
    public int ImageWidth { get; set; }

    /// <summary>Mask height in pixels, or 0 to take it from the input column's dimensions. Default: 0.</summary>
    public int ImageHeight { get; set; }
}
