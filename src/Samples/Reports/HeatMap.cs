namespace Microsoft.ML.Masking.Samples.Reports;

/// <summary>How an attribution map is coloured.</summary>
public enum HeatMapSign
{
    /// <summary>Only positive evidence, black → red → yellow → white; negative values show as black.</summary>
    Positive,

    /// <summary>The magnitude |a|, same colours as <see cref="Positive"/>.</summary>
    Absolute,

    /// <summary>Blue for negative, white for zero, red for positive.</summary>
    Signed,
}

/// <summary>
/// Attribution maps as pictures: a heat map with percentile clipping (the top 1 % of magnitudes saturate, so a few
/// extreme pixels do not wash out the rest) and a blend of the heat map over the greyscale image. Positive and
/// absolute maps whose values are all positive are shown relative to their minimum.
/// </summary>
public static class HeatMap
{
    /// <summary>The heat map of <paramref name="map"/> (H×W values), enlarged <paramref name="scale"/> times.</summary>
    public static PixelImage Render(ReadOnlySpan<float> map, int height, int width, HeatMapSign sign, double clipPercentile = 99, int scale = 4)
    {
        map = Shifted(map, sign);
        var rgb = Colours(map, sign, clipPercentile);
        return PixelImage.FromPlanar(rgb, 3, height, width, scale);
    }

    /// <summary>The heat map blended over the image (planar C×H×W in 0–1): α = <paramref name="opacity"/> × the map's normalised strength.</summary>
    public static PixelImage Overlay(ReadOnlySpan<float> image, int channels, ReadOnlySpan<float> map, int height, int width, HeatMapSign sign,
        double opacity = 0.7, double clipPercentile = 99, int scale = 4)
    {
        int pixels = height * width;
        map = Shifted(map, sign);
        var colours = Colours(map, sign, clipPercentile);
        var strength = Strength(map, sign, clipPercentile);
        var blended = new float[3 * pixels];
        for (int p = 0; p < pixels; p++)
        {
            float grey = 0;
            for (int c = 0; c < channels; c++) grey += image[c * pixels + p];
            grey /= channels;
            float alpha = (float)(opacity * strength[p]);
            for (int c = 0; c < 3; c++)
                blended[c * pixels + p] = (1 - alpha) * grey + alpha * colours[c * pixels + p];
        }
        return PixelImage.FromPlanar(blended, 3, height, width, scale);
    }

    /// <summary>
    /// A map with no negative value (RISE's) is shown relative to its smallest value, so a large common offset does not
    /// saturate the picture; signed maps are shown as they are.
    /// </summary>
    private static ReadOnlySpan<float> Shifted(ReadOnlySpan<float> map, HeatMapSign sign)
    {
        if (sign == HeatMapSign.Signed || map.IsEmpty) return map;
        float min = float.MaxValue;
        foreach (float v in map) min = Math.Min(min, v);
        if (!(min > 0)) return map;
        var shifted = new float[map.Length];
        for (int i = 0; i < map.Length; i++) shifted[i] = map[i] - min;
        return shifted;
    }

    private static float Clip(ReadOnlySpan<float> map, double percentile)
    {
        var magnitudes = map.ToArray().Select(Math.Abs).Order().ToArray();
        if (magnitudes.Length == 0) return 1;
        int index = (int)Math.Clamp(Math.Ceiling(percentile / 100 * magnitudes.Length) - 1, 0, magnitudes.Length - 1);
        float clip = magnitudes[index];
        return clip > 0 ? clip : 1;
    }

    private static float[] Strength(ReadOnlySpan<float> map, HeatMapSign sign, double percentile)
    {
        float clip = Clip(map, percentile);
        return map.ToArray().Select(v => sign switch
        {
            HeatMapSign.Positive => Math.Clamp(v / clip, 0f, 1f),
            _ => Math.Clamp(Math.Abs(v) / clip, 0f, 1f),
        }).ToArray();
    }

    private static float[] Colours(ReadOnlySpan<float> map, HeatMapSign sign, double percentile)
    {
        int pixels = map.Length;
        float clip = Clip(map, percentile);
        var rgb = new float[3 * pixels];
        for (int p = 0; p < pixels; p++)
        {
            float v = map[p] / clip;
            (float r, float g, float b) = sign switch
            {
                HeatMapSign.Signed => v >= 0
                    ? (1f, 1 - Math.Min(v, 1f), 1 - Math.Min(v, 1f))
                    : (1 - Math.Min(-v, 1f), 1 - Math.Min(-v, 1f), 1f),
                HeatMapSign.Absolute => Hot(Math.Abs(v)),
                _ => Hot(Math.Max(v, 0)),
            };
            rgb[p] = r;
            rgb[pixels + p] = g;
            rgb[2 * pixels + p] = b;
        }
        return rgb;
    }

    /// <summary>The "hot" colour scale: black → red → yellow → white over 0–1.</summary>
    private static (float, float, float) Hot(float t)
    {
        t = Math.Clamp(t, 0f, 1f);
        return (Math.Min(1f, 3 * t), Math.Clamp(3 * t - 1, 0f, 1f), Math.Clamp(3 * t - 2, 0f, 1f));
    }
}
