namespace Microsoft.ML.Masking.Samples.Reports;

/// <summary>
/// Open-set detection metrics from a score where higher means "known": AUROC (the probability that a random known
/// image scores above a random unknown one, ties counting half; Mann–Whitney) and FPR at 95 % TPR (the share of
/// unknown images accepted at the threshold that accepts 95 % of the known ones).
/// </summary>
public static class OpenSetMetrics
{
    /// <summary>AUROC of <paramref name="known"/> against <paramref name="unknown"/> scores (higher = known).</summary>
    public static double Auroc(IReadOnlyList<double> known, IReadOnlyList<double> unknown)
    {
        var all = known.Select(s => (Score: s, Known: true)).Concat(unknown.Select(s => (Score: s, Known: false))).OrderBy(p => p.Score).ToArray();
        double rankSum = 0;
        for (int i = 0; i < all.Length;)
        {
            int j = i;
            while (j < all.Length && all[j].Score == all[i].Score) j++;
            double midRank = (i + 1 + j) / 2.0;   // ranks i+1 … j share their mean
            for (int k = i; k < j; k++)
                if (all[k].Known) rankSum += midRank;
            i = j;
        }
        double n1 = known.Count, n0 = unknown.Count;
        return (rankSum - n1 * (n1 + 1) / 2) / (n1 * n0);
    }

    /// <summary>The share of unknown images whose score reaches the threshold that keeps 95 % of the known images.</summary>
    public static double FprAt95Tpr(IReadOnlyList<double> known, IReadOnlyList<double> unknown)
    {
        var sorted = known.OrderByDescending(s => s).ToArray();
        double threshold = sorted[Math.Max(0, (int)Math.Ceiling(0.95 * sorted.Length) - 1)];
        return unknown.Count(s => s >= threshold) / (double)unknown.Count;
    }
}
