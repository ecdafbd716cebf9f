namespace Microsoft.ML.Masking.Core.Segmentation;

/// <summary>
/// SLIC superpixels (Achanta et al., "SLIC Superpixels Compared to State-of-the-Art Superpixel Methods", TPAMI
/// 2012): k-means over colour and position, each centre searching only a window twice the grid step wide, then a
/// pass that makes every superpixel 4-connected. Deterministic: the same image always gives the same segments.
/// </summary>
/// <remarks>
/// Colours are the image's own channels rescaled so the image spans [0, 1] (so 0–1 and 0–255 inputs segment
/// alike); the distance is <c>‖Δcolour‖² + (compactness / S)² ‖Δposition‖²</c> with S the grid step in pixels.
/// A compactness of 0.1 on [0, 1] colours weighs colour against position as SLIC's customary m = 10 does on
/// CIELAB's 0–100 lightness.
/// </remarks>
public static class SlicSuperpixels
{
    /// <summary>Segments one image.</summary>
    /// <param name="planar">The image: <paramref name="channels"/> planes of height × width values, row-major.</param>
    /// <param name="channels">Number of colour planes.</param>
    /// <param name="height">Rows.</param>
    /// <param name="width">Columns.</param>
    /// <param name="desiredCount">Superpixels asked for; the result has about this many (the grid is rounded and tiny fragments are merged).</param>
    /// <param name="compactness">Weight of position against colour; larger gives squarer superpixels.</param>
    /// <param name="iterations">k-means iterations (10 is SLIC's usual choice).</param>
    /// <exception cref="ArgumentException">Sizes that do not match, a count outside [1, pixels], non-finite pixels.</exception>
    public static SegmentMap Segment(ReadOnlySpan<float> planar, int channels, int height, int width, int desiredCount,
        double compactness = 0.1, int iterations = 10)
    {
        if (channels < 1 || height < 1 || width < 1)
            throw new ArgumentOutOfRangeException(nameof(channels), $"An image needs positive channels, height and width; got {channels}×{height}×{width}.");
        int pixels = height * width;
        if (planar.Length != channels * pixels)
            throw new ArgumentException($"A {channels}×{height}×{width} image has {channels * pixels} values; got {planar.Length}.", nameof(planar));
        if (desiredCount < 1 || desiredCount > pixels)
            throw new ArgumentOutOfRangeException(nameof(desiredCount), desiredCount, $"Ask for between 1 and {pixels} superpixels.");
        if (!(compactness > 0) || !double.IsFinite(compactness))
            throw new ArgumentOutOfRangeException(nameof(compactness), compactness, "Compactness must be positive and finite.");
        if (iterations < 1)
            throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "At least one iteration.");

        var colour = Rescale(planar);
        double step = Math.Sqrt((double)pixels / desiredCount);
        int rows = Math.Clamp((int)Math.Round(height / step), 1, height);
        int columns = Math.Clamp((int)Math.Round(width / step), 1, width);
        var centres = Seed(colour, channels, height, width, rows, columns);
        double spacing = Math.Sqrt((double)pixels / centres.Count);
        var labels = Cluster(colour, channels, height, width, centres, spacing, compactness, iterations);
        int minimumSize = Math.Max(1, (int)(pixels / (double)centres.Count / 4));
        return SegmentMap.FromDenseLabels(EnforceConnectivity(labels, height, width, minimumSize), height, width);
    }

    private sealed class Centre(int channels)
    {
        public double Y, X;
        public readonly double[] Colour = new double[channels];
    }

    private static float[] Rescale(ReadOnlySpan<float> planar)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float v in planar)
        {
            if (!float.IsFinite(v))
                throw new ArgumentException("SLIC needs finite pixel values; the image holds NaN or infinity.", nameof(planar));
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        float range = max - min;
        var scaled = new float[planar.Length];
        if (range > 0)
            for (int i = 0; i < planar.Length; i++)
                scaled[i] = (planar[i] - min) / range;
        return scaled;
    }

    // Grid centres, each moved to the lowest-gradient pixel of its 3×3 neighbourhood so no centre starts on an edge.
    private static List<Centre> Seed(float[] colour, int channels, int height, int width, int rows, int columns)
    {
        var centres = new List<Centre>(rows * columns);
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
            {
                int y0 = Math.Min(height - 1, (int)((i + 0.5) * height / rows));
                int x0 = Math.Min(width - 1, (int)((j + 0.5) * width / columns));
                int bestY = y0, bestX = x0;
                double best = double.PositiveInfinity;
                for (int y = Math.Max(0, y0 - 1); y <= Math.Min(height - 1, y0 + 1); y++)
                    for (int x = Math.Max(0, x0 - 1); x <= Math.Min(width - 1, x0 + 1); x++)
                    {
                        double g = Gradient(colour, channels, height, width, y, x);
                        if (g < best) { best = g; bestY = y; bestX = x; }
                    }
                var centre = new Centre(channels) { Y = bestY, X = bestX };
                for (int c = 0; c < channels; c++)
                    centre.Colour[c] = colour[(c * height + bestY) * width + bestX];
                centres.Add(centre);
            }
        }
        return centres;
    }

    private static double Gradient(float[] colour, int channels, int height, int width, int y, int x)
    {
        int left = Math.Max(0, x - 1), right = Math.Min(width - 1, x + 1), up = Math.Max(0, y - 1), down = Math.Min(height - 1, y + 1);
        double sum = 0;
        for (int c = 0; c < channels; c++)
        {
            int plane = c * height * width;
            double dx = colour[plane + y * width + right] - colour[plane + y * width + left];
            double dy = colour[plane + down * width + x] - colour[plane + up * width + x];
            sum += dx * dx + dy * dy;
        }
        return sum;
    }

    private static int[] Cluster(float[] colour, int channels, int height, int width, List<Centre> centres,
        double spacing, double compactness, int iterations)
    {
        int pixels = height * width;
        var labels = new int[pixels];
        var distance = new double[pixels];
        double positionWeight = compactness * compactness / (spacing * spacing);
        int radius = (int)Math.Ceiling(spacing);
        var sums = new double[centres.Count, channels + 3];
        for (int iteration = 0; iteration < iterations; iteration++)
        {
            Array.Fill(labels, -1);
            Array.Fill(distance, double.PositiveInfinity);
            for (int k = 0; k < centres.Count; k++)
            {
                var centre = centres[k];
                int cy = (int)Math.Round(centre.Y), cx = (int)Math.Round(centre.X);
                for (int y = Math.Max(0, cy - radius); y <= Math.Min(height - 1, cy + radius); y++)
                {
                    for (int x = Math.Max(0, cx - radius); x <= Math.Min(width - 1, cx + radius); x++)
                    {
                        int p = y * width + x;
                        double d = positionWeight * ((y - centre.Y) * (y - centre.Y) + (x - centre.X) * (x - centre.X));
                        for (int c = 0; c < channels && d < distance[p]; c++)
                        {
                            double dc = colour[c * pixels + p] - centre.Colour[c];
                            d += dc * dc;
                        }
                        if (d < distance[p]) { distance[p] = d; labels[p] = k; }
                    }
                }
            }
            Array.Clear(sums);
            for (int p = 0; p < pixels; p++)
            {
                int k = labels[p];
                if (k < 0) continue;
                sums[k, 0] += 1;
                sums[k, 1] += p / width;
                sums[k, 2] += p % width;
                for (int c = 0; c < channels; c++)
                    sums[k, 3 + c] += colour[c * pixels + p];
            }
            for (int k = 0; k < centres.Count; k++)
            {
                double n = sums[k, 0];
                if (n == 0) continue; // an empty centre stays where it was
                centres[k].Y = sums[k, 1] / n;
                centres[k].X = sums[k, 2] / n;
                for (int c = 0; c < channels; c++)
                    centres[k].Colour[c] = sums[k, 3 + c] / n;
            }
        }
        return labels;
    }

    // Relabels 4-connected components in raster order; a component smaller than minimumSize (or one no centre
    // reached, label −1, of any size below it) joins the already-numbered segment beside its first pixel.
    private static int[] EnforceConnectivity(int[] labels, int height, int width, int minimumSize)
    {
        int pixels = height * width;
        var result = new int[pixels];
        Array.Fill(result, -1);
        var component = new List<int>();
        var stack = new Stack<int>();
        int next = 0;
        for (int start = 0; start < pixels; start++)
        {
            if (result[start] >= 0) continue;
            int old = labels[start];
            component.Clear();
            stack.Push(start);
            result[start] = next;
            while (stack.Count > 0)
            {
                int p = stack.Pop();
                component.Add(p);
                int y = p / width, x = p % width;
                Visit(x > 0 ? p - 1 : -1);
                Visit(x < width - 1 ? p + 1 : -1);
                Visit(y > 0 ? p - width : -1);
                Visit(y < height - 1 ? p + width : -1);
            }
            int sy = start / width, sx = start % width;
            // Raster order: the left and upper neighbours of a component's first pixel are already numbered.
            int adjacent = sx > 0 ? result[start - 1] : sy > 0 ? result[start - width] : -1;
            if (component.Count < minimumSize && adjacent >= 0)
            {
                foreach (int p in component)
                    result[p] = adjacent;
            }
            else
            {
                next++;
            }

            void Visit(int q)
            {
                if (q < 0 || result[q] >= 0 || labels[q] != old) return;
                result[q] = next;
                stack.Push(q);
            }
        }
        return result;
    }
}
