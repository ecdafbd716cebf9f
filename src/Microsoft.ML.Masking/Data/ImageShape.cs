namespace Microsoft.ML.Masking.Data;

/// <summary>
/// The layout of an image stored as a float vector: <see cref="Channels"/> planes of <see cref="Height"/> ×
/// <see cref="Width"/> values, planar and row-major (channel, row, column), as ImageAnalytics' ExtractPixels
/// writes it by default.
/// </summary>
/// <param name="Channels">Number of colour planes (1 grey, 3 RGB).</param>
/// <param name="Height">Rows.</param>
/// <param name="Width">Columns.</param>
public readonly record struct ImageShape(int Channels, int Height, int Width)
{
    /// <summary>Number of values of one image: channels × height × width.</summary>
    public int Size => Channels * Height * Width;

    /// <summary>Number of pixels of one image (height × width): the size of a per-pixel mask.</summary>
    public int Pixels => Height * Width;

    /// <inheritdoc/>
    public override string ToString() => $"{Channels}×{Height}×{Width}";

    /// <summary>
    /// The shape of square images with one or three channels whose vectors have <paramref name="size"/> values;
    /// unique when it exists (3·n² is never a perfect square). Null when no such shape exists.
    /// </summary>
    public static ImageShape? InferSquare(int size)
    {
        foreach (int channels in new[] { 1, 3 })
        {
            if (size % channels != 0) continue;
            int side = (int)Math.Round(Math.Sqrt(size / channels));
            if (side > 0 && side * side * channels == size)
                return new ImageShape(channels, side, side);
        }
        return null;
    }
}
