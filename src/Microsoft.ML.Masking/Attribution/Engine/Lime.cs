namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// LIME (Ribeiro et al. 2016) over segments: <see cref="Samples"/> random on/off patterns of the segments
/// (<see cref="SegmentSamples.Lime"/>, a function of the seed and row only, so every masking method scores the same
/// patterns), each weighted by exp(−d² / (2·width²)) with d the cosine distance between the pattern and the all-on
/// pattern, and a weighted linear surrogate fitted to the target scores. The attribution of a segment is its
/// coefficient; the row value is the surrogate's weighted R².
/// </summary>
/// <remarks>
/// Captum measures the distance between the original and the perturbed image; with layer masking there is no
/// perturbed image, so the distance is taken between the binary patterns, as the LIME package does for images (its
/// kernel width 0.25 is the default here).
/// </remarks>
public sealed class Lime : PerturbationMethod
{
    /// <summary>Creates the method.</summary>
    /// <param name="scorer">Scores images with pixels removed.</param>
    /// <param name="samples">Perturbed samples per image (at least 1).</param>
    /// <param name="kernelWidth">Width of the exponential kernel (positive).</param>
    /// <param name="surrogate">Ridge or lasso.</param>
    /// <param name="alpha">The surrogate's penalty (ridge: 1 as in the LIME package; lasso: 0.01 as in Captum).</param>
    /// <param name="internalBatchSize">Perturbed images per pass.</param>
    /// <param name="seed">Seed of the sample matrices.</param>
    /// <param name="shareSamplesAcrossRows">One sample matrix for every row with the same segment count, instead of one per row.</param>
    public Lime(IPerturbationScorer scorer, int samples = 512, double kernelWidth = 0.25, SurrogateKind surrogate = SurrogateKind.Ridge,
        double? alpha = null, int internalBatchSize = 64, int seed = 0, bool shareSamplesAcrossRows = false)
        : base(scorer, internalBatchSize, seed)
    {
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), samples, "LIME needs at least one sample.");
        if (!(kernelWidth > 0) || !double.IsFinite(kernelWidth)) throw new ArgumentOutOfRangeException(nameof(kernelWidth), kernelWidth, "The kernel width must be positive.");
        double penalty = alpha ?? (surrogate == SurrogateKind.Ridge ? 1.0 : 0.01);
        if (!(penalty >= 0) || !double.IsFinite(penalty)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "The penalty must be finite and non-negative.");
        Samples = samples;
        KernelWidth = kernelWidth;
        Surrogate = surrogate;
        Alpha = penalty;
        ShareSamplesAcrossRows = shareSamplesAcrossRows;
    }

    /// <summary>
    /// When true, every row with the same segment count gets the same sample matrix (drawn from the seed and the count,
    /// a reserved negative row id in place of the row id). Rows cut by the same segmentation (patches) are then scored
    /// under the same masks, so layer masking derives its mask-only work once per mask set for all of them; the price
    /// is that the rows' sampling errors are no longer independent. When false (the default), each row draws its own.
    /// </summary>
    public bool ShareSamplesAcrossRows { get; }

    /// <summary>The row id a shared sample matrix is drawn for (row ids of data are non-negative).</summary>
    internal const long SharedRowId = -1;

    /// <summary>Samples per image.</summary>
    public int Samples { get; }

    /// <summary>Width of the kernel.</summary>
    public double KernelWidth { get; }

    /// <summary>The surrogate.</summary>
    public SurrogateKind Surrogate { get; }

    /// <summary>The surrogate's penalty.</summary>
    public double Alpha { get; }

    /// <inheritdoc/>
    public override string Name => "Lime";

    /// <inheritdoc/>
    public override bool NeedsSegments => true;

    /// <inheritdoc/>
    public override AttributionOutput Attribute(AttributionBatch batch)
    {
        var maps = batch.RequireSegments(Name);
        var (_, h, w) = batch.ImageSize;
        int rows = batch.Count, s = Samples;
        var shared = new Dictionary<int, bool[,]>();
        var matrices = maps.Select((m, i) => !ShareSamplesAcrossRows ? SegmentSamples.Lime(Seed, batch.RowIds[i], s, m.SegmentCount)
            : shared.TryGetValue(m.SegmentCount, out var known) ? known
            : shared[m.SegmentCount] = SegmentSamples.Lime(Seed, SharedRowId, s, m.SegmentCount)).ToArray();
        // The same matrix and the same segmentation on every row: the same masks, scored mask-major.
        int sharedMasks = ShareSamplesAcrossRows && PerturbationScoring.SameSegments(maps) ? s : 0;
        var scores = Score(batch, rows * s, p => p / s, (p, keep) =>
        {
            int row = p / s, sample = p % s;
            var labels = maps[row].Labels;
            for (int q = 0; q < labels.Length; q++)
                keep[q] = matrices[row][sample, labels[q]] ? 1f : 0f;
        }, sharedMasks);
        var coefficients = new double[rows][];
        var r2 = new float[rows];
        for (int i = 0; i < rows; i++)
        {
            int d = maps[i].SegmentCount;
            var x = new double[s, d];
            var y = new double[s];
            var weights = new double[s];
            for (int k = 0; k < s; k++)
            {
                int on = 0;
                for (int j = 0; j < d; j++)
                    if (matrices[i][k, j]) { x[k, j] = 1; on++; }
                double distance = on == 0 ? 1 : 1 - Math.Sqrt(on / (double)d);
                weights[k] = Math.Exp(-distance * distance / (2 * KernelWidth * KernelWidth));
                y[k] = scores[i * s + k];
            }
            var fit = WeightedLinearFit.Fit(x, y, weights, Surrogate, Alpha);
            coefficients[i] = fit.Coefficients.ToArray();
            r2[i] = (float)fit.WeightedRSquared;
        }
        return new AttributionOutput(PerturbationScoring.Paint(maps, coefficients, h, w, TorchSharp.torch.CPU), r2);
    }
}
