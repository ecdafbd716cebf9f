using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// RISE (Petsiuk et al. 2018): random masks — a coarse grid of cells kept with probability p, enlarged to cells of
/// <see cref="CellSize"/> pixels and shifted by a random offset — and the saliency Σᵢ f(x ⊙ Mᵢ) Mᵢ / (N·p). The masks are
/// binary (nearest enlargement, where the paper blurs them bilinearly) so that every removal method, layer masking
/// included, applies; they depend only on the seed and the image size, so they are drawn once and shared by all rows.
/// </summary>
public sealed class Rise : PerturbationMethod
{
    private readonly object _gate = new();
    private (int H, int W, float[][] Masks)? _masks;

    /// <summary>Creates the method.</summary>
    /// <param name="scorer">Scores images with pixels removed.</param>
    /// <param name="maskCount">Random masks (at least 1).</param>
    /// <param name="cellSize">Side of a grid cell in pixels (at least 1).</param>
    /// <param name="keepProbability">Probability that a cell is kept, in (0, 1).</param>
    /// <param name="internalBatchSize">Perturbed images per pass.</param>
    /// <param name="seed">Seed of the masks.</param>
    public Rise(IPerturbationScorer scorer, int maskCount = 1000, int cellSize = 8, double keepProbability = 0.5, int internalBatchSize = 64, int seed = 0)
        : base(scorer, internalBatchSize, seed)
    {
        if (maskCount < 1) throw new ArgumentOutOfRangeException(nameof(maskCount), maskCount, "RISE needs at least one mask.");
        if (cellSize < 1) throw new ArgumentOutOfRangeException(nameof(cellSize), cellSize, "A RISE cell is at least one pixel.");
        if (!(keepProbability > 0 && keepProbability < 1))
            throw new ArgumentOutOfRangeException(nameof(keepProbability), keepProbability, "The keep probability lies strictly between 0 and 1.");
        MaskCount = maskCount;
        CellSize = cellSize;
        KeepProbability = keepProbability;
    }

    /// <summary>Random masks.</summary>
    public int MaskCount { get; }

    /// <summary>Side of a grid cell in pixels.</summary>
    public int CellSize { get; }

    /// <summary>Probability that a cell is kept.</summary>
    public double KeepProbability { get; }

    /// <inheritdoc/>
    public override string Name => "Rise";

    /// <summary>The binary masks (1 kept) for an image of <paramref name="height"/> × <paramref name="width"/>, drawn from the seed alone.</summary>
    public float[][] Masks(int height, int width)
    {
        lock (_gate)
        {
            if (_masks is { } cached && cached.H == height && cached.W == width)
                return cached.Masks;
            var drawn = Draw(height, width);
            _masks = (height, width, drawn);
            return drawn;
        }
    }

    private float[][] Draw(int height, int width)
    {
        int c = CellSize, rows = (height + c - 1) / c + 1, columns = (width + c - 1) / c + 1;
        var masks = new float[MaskCount][];
        for (int i = 0; i < MaskCount; i++)
        {
            using var generator = AttributionSeeds.For(Seed, AttributionSeeds.Rise, 0, i);
            var cells = rand(new long[] { rows * columns + 2 }, generator: generator).data<float>().ToArray();
            int dy = Math.Min((int)(cells[^2] * c), c - 1), dx = Math.Min((int)(cells[^1] * c), c - 1);
            var mask = new float[height * width];
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                    mask[y * width + x] = cells[(y + dy) / c * columns + (x + dx) / c] < KeepProbability ? 1f : 0f;
            masks[i] = mask;
        }
        return masks;
    }

    /// <inheritdoc/>
    public override AttributionOutput Attribute(AttributionBatch batch)
    {
        var (_, h, w) = batch.ImageSize;
        var masks = Masks(h, w);
        int n = masks.Length, rows = batch.Count;
        // The masks come from the seed and the image size alone, so every row's k-th mask is the same (what sharedMasksPerRow promises).
        var scores = Score(batch, rows * n, p => p / n, (p, keep) => masks[p % n].CopyTo(keep), sharedMasksPerRow: n);
        var result = new double[rows * h * w];
        for (int p = 0; p < rows * n; p++)
        {
            var mask = masks[p % n];
            int offset = p / n * h * w;
            for (int q = 0; q < mask.Length; q++)
                if (mask[q] != 0) result[offset + q] += scores[p];
        }
        double scale = 1.0 / (n * KeepProbability);
        return new AttributionOutput(tensor(result.Select(v => (float)(v * scale)).ToArray(), [rows, 1, h, w]));
    }
}
