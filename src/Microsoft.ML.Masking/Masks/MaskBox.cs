namespace Microsoft.ML.Masking.Masks;

/// <summary>
/// An axis-aligned rectangle of whole pixels: columns <see cref="X"/> … <see cref="X"/> + <see cref="Width"/> − 1
/// and rows <see cref="Y"/> … <see cref="Y"/> + <see cref="Height"/> − 1, with (0, 0) the top-left pixel (x to the
/// right, y down, as in image files and ML.NET's ImageAnalytics).
/// </summary>
/// <param name="X">Left column (0-based).</param>
/// <param name="Y">Top row (0-based).</param>
/// <param name="Width">Columns covered (at least 1).</param>
/// <param name="Height">Rows covered (at least 1).</param>
public readonly record struct MaskBox(int X, int Y, int Width, int Height)
{
    /// <summary>"(x, y) w×h", for messages.</summary>
    public override string ToString() => $"({X}, {Y}) {Width}×{Height}";
}
