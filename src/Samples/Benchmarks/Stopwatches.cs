using System.Diagnostics;

namespace Microsoft.ML.Masking.Samples.Benchmarks;

/// <summary>
/// Times several variants of one job interleaved round by round, so that machine noise (other processes on a
/// 2-core box) hits all of them alike; ratios of the medians are what the benchmarks report.
/// </summary>
public static class Stopwatches
{
    /// <summary>Runs each action <paramref name="warmup"/> times untimed, then <paramref name="rounds"/> rounds of all of them.</summary>
    /// <returns>Median seconds per variant, by name.</returns>
    public static Dictionary<string, double> Interleaved(IReadOnlyList<(string Name, Action Run)> variants, int warmup, int rounds, Action<string>? progress = null) =>
        InterleavedRounds(variants, warmup, rounds, progress).ToDictionary(s => s.Key, s => Median(s.Value));

    /// <summary>As <see cref="Interleaved"/>, but every round's seconds per variant, in round order.</summary>
    public static Dictionary<string, List<double>> InterleavedRounds(IReadOnlyList<(string Name, Action Run)> variants, int warmup, int rounds, Action<string>? progress = null)
    {
        foreach (var (name, run) in variants)
            for (int i = 0; i < warmup; i++) run();
        var samples = variants.ToDictionary(v => v.Name, _ => new List<double>());
        for (int r = 0; r < rounds; r++)
        {
            foreach (var (name, run) in variants)
            {
                var watch = Stopwatch.StartNew();
                run();
                samples[name].Add(watch.Elapsed.TotalSeconds);
            }
            progress?.Invoke($"round {r + 1}/{rounds}: " + string.Join(", ", samples.Select(s => $"{s.Key} {s.Value[^1] * 1000:F0} ms")));
        }
        return samples;
    }

    /// <summary>The median of <paramref name="values"/>.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
