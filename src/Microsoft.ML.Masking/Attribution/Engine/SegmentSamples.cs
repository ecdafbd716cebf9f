using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// The binary sample matrices of LIME and KernelSHAP (row s: which segments sample s keeps). Each is a function of the
/// seed, the row id and the sizes only, so the same matrix serves every masking method and every batch size — which is
/// what makes LIME under layer masking and under grey paint a paired comparison.
/// </summary>
public static class SegmentSamples
{
    /// <summary>LIME's samples: each segment kept independently with probability ½ (Captum's default perturbation).</summary>
    public static bool[,] Lime(int seed, long rowId, int samples, int segments)
    {
        Check(samples, segments);
        using var generator = AttributionSeeds.For(seed, AttributionSeeds.Lime, rowId, segments);
        var draws = rand(new long[] { samples, segments }, generator: generator).data<float>().ToArray();
        var matrix = new bool[samples, segments];
        for (int s = 0; s < samples; s++)
            for (int j = 0; j < segments; j++)
                matrix[s, j] = draws[s * segments + j] < 0.5f;
        return matrix;
    }

    /// <summary>
    /// KernelSHAP's samples, drawn from the Shapley kernel as Captum draws them: a coalition size k in 1 … M − 1 with
    /// probability ∝ (M − 1) / (k (M − k)), then k segments uniformly; every sample then has weight 1. With one segment
    /// every sample keeps it.
    /// </summary>
    public static bool[,] KernelShap(int seed, long rowId, int samples, int segments)
    {
        Check(samples, segments);
        var matrix = new bool[samples, segments];
        if (segments == 1)
        {
            for (int s = 0; s < samples; s++) matrix[s, 0] = true;
            return matrix;
        }
        var cumulative = new double[segments - 1];
        double total = 0;
        for (int k = 1; k < segments; k++)
            cumulative[k - 1] = total += (segments - 1.0) / (k * (double)(segments - k));
        using var generator = AttributionSeeds.For(seed, AttributionSeeds.KernelShap, rowId, segments);
        var sizes = rand(new long[] { samples }, generator: generator, dtype: ScalarType.Float64).data<double>().ToArray();
        var keys = rand(new long[] { samples, segments }, generator: generator).data<float>().ToArray();
        for (int s = 0; s < samples; s++)
        {
            int index = Array.BinarySearch(cumulative, sizes[s] * total);
            int size = (index >= 0 ? index : ~index) + 1;
            size = Math.Min(size, segments - 1);
            // The k segments with the smallest random keys: a uniform subset of size k.
            var chosen = Enumerable.Range(0, segments).OrderBy(j => keys[s * segments + j]).Take(size);
            foreach (int j in chosen) matrix[s, j] = true;
        }
        return matrix;
    }

    private static void Check(int samples, int segments)
    {
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), samples, "At least one sample.");
        if (segments < 1) throw new ArgumentOutOfRangeException(nameof(segments), segments, "At least one segment.");
    }
}
