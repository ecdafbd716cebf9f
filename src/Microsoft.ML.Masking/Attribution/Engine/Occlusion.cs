using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// Occlusion (Zeiler &amp; Fergus 2014; Captum's <c>Occlusion</c>): a square window slides over the image with the given
/// stride; each pixel's attribution is the mean, over the windows that cover it, of f(x) − f(x with the window
/// removed). Pixels no window covers get 0. The windows depend only on the image size, so they are built once.
/// </summary>
public sealed class Occlusion : PerturbationMethod
{
    /// <summary>Creates the method.</summary>
    /// <param name="scorer">Scores images with pixels removed.</param>
    /// <param name="window">Side of the square window in pixels (at least 1).</param>
    /// <param name="stride">Step between windows in pixels (at least 1).</param>
    /// <param name="internalBatchSize">Perturbed images per pass.</param>
    /// <param name="seed">Seed of a noise fill.</param>
    public Occlusion(IPerturbationScorer scorer, int window, int stride, int internalBatchSize = 64, int seed = 0)
        : base(scorer, internalBatchSize, seed)
    {
        if (window < 1) throw new ArgumentOutOfRangeException(nameof(window), window, "The occlusion window is at least one pixel.");
        if (stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, "The occlusion stride is at least one pixel.");
        Window = window;
        Stride = stride;
    }

    /// <summary>Side of the window.</summary>
    public int Window { get; }

    /// <summary>Step between windows.</summary>
    public int Stride { get; }

    /// <inheritdoc/>
    public override string Name => "Occlusion";

    /// <summary>The top-left corners of the windows on an image of <paramref name="height"/> × <paramref name="width"/>.</summary>
    /// <exception cref="ArgumentException">The window is larger than the image.</exception>
    public IReadOnlyList<(int Y, int X)> Windows(int height, int width)
    {
        if (Window > height || Window > width)
            throw new ArgumentException($"The occlusion window ({Window}×{Window}) is larger than the image ({height}×{width}).");
        var corners = new List<(int, int)>();
        for (int y = 0; y + Window <= height; y += Stride)
            for (int x = 0; x + Window <= width; x += Stride)
                corners.Add((y, x));
        return corners;
    }

    /// <inheritdoc/>
    public override AttributionOutput Attribute(AttributionBatch batch)
    {
        var (_, h, w) = batch.ImageSize;
        var windows = Windows(h, w);
        int n = windows.Count, rows = batch.Count;
        var clean = Clean(batch);
        // Window k depends on the image size alone, so every row's k-th mask is the same (what sharedMasksPerRow promises).
        var scores = Score(batch, rows * n, p => p / n, (p, keep) =>
        {
            keep.Fill(1f);
            var (y0, x0) = windows[p % n];
            for (int y = y0; y < y0 + Window; y++)
                keep.Slice(y * w + x0, Window).Clear();
        }, sharedMasksPerRow: n);
        var sums = new double[rows * h * w];
        var counts = new int[h * w];
        foreach (var (y0, x0) in windows)
            for (int y = y0; y < y0 + Window; y++)
                for (int x = x0; x < x0 + Window; x++)
                    counts[y * w + x]++;
        for (int p = 0; p < rows * n; p++)
        {
            int row = p / n;
            var (y0, x0) = windows[p % n];
            double drop = clean[row] - scores[p];
            for (int y = y0; y < y0 + Window; y++)
                for (int x = x0; x < x0 + Window; x++)
                    sums[row * h * w + y * w + x] += drop;
        }
        var result = new float[rows * h * w];
        for (int i = 0; i < result.Length; i++)
            result[i] = counts[i % (h * w)] == 0 ? 0f : (float)(sums[i] / counts[i % (h * w)]);
        return new AttributionOutput(tensor(result, [rows, 1, h, w]));
    }
}
