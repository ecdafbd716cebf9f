namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// KernelSHAP (Lundberg &amp; Lee 2017) over segments: coalitions drawn from the Shapley kernel
/// (<see cref="SegmentSamples.KernelShap"/>) and a least-squares fit of the target scores that satisfies the
/// efficiency constraint exactly — φ₀ = f(nothing kept) and Σφ = f(x) − φ₀ — by eliminating one coefficient, as the
/// SHAP package does (Captum approximates the constraint with large weights on the two end points).
/// </summary>
public sealed class KernelShap : PerturbationMethod
{
    /// <summary>Creates the method.</summary>
    /// <param name="scorer">Scores images with pixels removed.</param>
    /// <param name="samples">Coalitions per image (at least 1).</param>
    /// <param name="internalBatchSize">Perturbed images per pass.</param>
    /// <param name="seed">Seed of the coalitions.</param>
    public KernelShap(IPerturbationScorer scorer, int samples = 512, int internalBatchSize = 64, int seed = 0)
        : base(scorer, internalBatchSize, seed)
    {
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), samples, "KernelSHAP needs at least one sample.");
        Samples = samples;
    }

    /// <summary>Coalitions per image.</summary>
    public int Samples { get; }

    /// <inheritdoc/>
    public override string Name => "KernelShap";

    /// <inheritdoc/>
    public override bool NeedsSegments => true;

    /// <inheritdoc/>
    public override AttributionOutput Attribute(AttributionBatch batch)
    {
        var maps = batch.RequireSegments(Name);
        var (_, h, w) = batch.ImageSize;
        int rows = batch.Count, s = Samples, perRow = s + 1;
        var matrices = maps.Select((m, i) => SegmentSamples.KernelShap(Seed, batch.RowIds[i], s, m.SegmentCount)).ToArray();
        var clean = Clean(batch);
        // Point s of each row keeps nothing: the empty coalition, φ₀.
        var scores = Score(batch, rows * perRow, p => p / perRow, (p, keep) =>
        {
            int row = p / perRow, sample = p % perRow;
            if (sample == s) { keep.Clear(); return; }
            var labels = maps[row].Labels;
            for (int q = 0; q < labels.Length; q++)
                keep[q] = matrices[row][sample, labels[q]] ? 1f : 0f;
        });
        var values = new double[rows][];
        for (int i = 0; i < rows; i++)
        {
            int m = maps[i].SegmentCount;
            double empty = scores[i * perRow + s], delta = clean[i] - empty;
            values[i] = m == 1 ? [delta] : Constrained(matrices[i], scores.AsSpan(i * perRow, s), empty, delta);
        }
        return new AttributionOutput(PerturbationScoring.Paint(maps, values, h, w, TorchSharp.torch.CPU));
    }

    /// <summary>Least squares of y − φ₀ ≈ zφ subject to Σφ = Δ, with φ_M = Δ − Σ_{j&lt;M} φ_j substituted.</summary>
    private static double[] Constrained(bool[,] z, ReadOnlySpan<double> y, double empty, double delta)
    {
        int n = z.GetLength(0), m = z.GetLength(1), d = m - 1;
        var a = new double[d, d];
        var b = new double[d];
        var u = new double[d];
        for (int i = 0; i < n; i++)
        {
            double last = z[i, m - 1] ? 1 : 0;
            double t = y[i] - empty - last * delta;
            for (int j = 0; j < d; j++) u[j] = (z[i, j] ? 1 : 0) - last;
            for (int j = 0; j < d; j++)
            {
                b[j] += u[j] * t;
                for (int k = 0; k <= j; k++) a[j, k] += u[j] * u[k];
            }
        }
        double trace = 0;
        for (int j = 0; j < d; j++) trace += a[j, j];
        // A tiny ridge keeps the system solvable with fewer coalitions than segments; it does not touch the constraint.
        double jitter = 1e-9 * Math.Max(trace / d, 1e-12);
        for (int j = 0; j < d; j++)
        {
            a[j, j] += jitter;
            for (int k = 0; k < j; k++) a[k, j] = a[j, k];
        }
        var phi = WeightedLinearFit.SolveSymmetric(a, b);
        var result = new double[m];
        phi.CopyTo(result, 0);
        result[m - 1] = delta - phi.Sum();
        return result;
    }
}
