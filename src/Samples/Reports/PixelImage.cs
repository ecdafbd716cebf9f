using SkiaSharp;

namespace Microsoft.ML.Masking.Samples.Reports;

/// <summary>
/// A small RGB picture built from planar C×H×W floats (values 0–1; one channel is shown as grey), enlarged with
/// nearest-neighbour so each pixel stays visible, and written as PNG with the SkiaSharp that ImageAnalytics brings.
/// </summary>
public sealed class PixelImage
{
    private readonly byte[] _rgb;

    private PixelImage(int width, int height, byte[] rgb)
    {
        Width = width;
        Height = height;
        _rgb = rgb;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Builds a picture from planar values in 0–1 (clipped for display only), enlarged <paramref name="scale"/> times.</summary>
    public static PixelImage FromPlanar(ReadOnlySpan<float> planar, int channels, int height, int width, int scale = 1)
    {
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "1 or 3 channels");
        if (planar.Length != channels * height * width) throw new ArgumentException($"Expected {channels}×{height}×{width} values, got {planar.Length}.");
        var rgb = new byte[height * scale * width * scale * 3];
        for (int y = 0; y < height * scale; y++)
            for (int x = 0; x < width * scale; x++)
                for (int c = 0; c < 3; c++)
                {
                    float v = planar[(channels == 1 ? 0 : c) * height * width + y / scale * width + x / scale];
                    rgb[(y * width * scale + x) * 3 + c] = (byte)Math.Round(Math.Clamp(v, 0f, 1f) * 255f);
                }
        return new PixelImage(width * scale, height * scale, rgb);
    }

    /// <summary>Places pictures in a grid (row by row, equal cell sizes), separated by <paramref name="gap"/> white pixels.</summary>
    public static PixelImage Grid(IReadOnlyList<IReadOnlyList<PixelImage>> rows, int gap = 4)
    {
        int cellW = rows.SelectMany(r => r).Max(i => i.Width), cellH = rows.SelectMany(r => r).Max(i => i.Height);
        int columns = rows.Max(r => r.Count);
        int width = columns * cellW + (columns + 1) * gap, height = rows.Count * cellH + (rows.Count + 1) * gap;
        var rgb = Enumerable.Repeat((byte)255, width * height * 3).ToArray();
        for (int r = 0; r < rows.Count; r++)
            for (int c = 0; c < rows[r].Count; c++)
            {
                var image = rows[r][c];
                int ox = gap + c * (cellW + gap), oy = gap + r * (cellH + gap);
                for (int y = 0; y < image.Height; y++)
                    Array.Copy(image._rgb, y * image.Width * 3, rgb, ((oy + y) * width + ox) * 3, image.Width * 3);
            }
        return new PixelImage(width, height, rgb);
    }

    /// <summary>PNG bytes.</summary>
    public byte[] ToPng()
    {
        using var bitmap = new SKBitmap(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var pixels = new byte[Width * Height * 4];
        for (int i = 0; i < Width * Height; i++)
        {
            pixels[i * 4] = _rgb[i * 3];
            pixels[i * 4 + 1] = _rgb[i * 3 + 1];
            pixels[i * 4 + 2] = _rgb[i * 3 + 2];
            pixels[i * 4 + 3] = 255;
        }
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>Writes the PNG to <paramref name="path"/>.</summary>
    public void Save(string path) => File.WriteAllBytes(path, ToPng());

    /// <summary>A data URI for embedding in HTML.</summary>
    public string ToDataUri() => "data:image/png;base64," + Convert.ToBase64String(ToPng());
}
