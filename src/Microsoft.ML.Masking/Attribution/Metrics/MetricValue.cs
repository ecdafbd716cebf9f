using System.Globalization;

namespace Microsoft.ML.Masking.Attribution.Metrics;

/// <summary>A metric over rows: its mean, the standard error of the mean, the rows it was computed on and the largest value.</summary>
/// <param name="Mean">Mean over rows (NaN when no row had a value).</param>
/// <param name="StandardError">Sample standard deviation over √n (NaN with fewer than two rows).</param>
/// <param name="Count">Rows with a value (rows without, e.g. no object or no positive relevance, are left out).</param>
/// <param name="Max">The largest row value.</param>
public sealed record MetricValue(double Mean, double StandardError, long Count, double Max)
{
    /// <summary>"0.812 ± 0.013 (n = 200)".</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Mean:0.####} ± {StandardError:0.####} (n = {Count})");

    internal static MetricValue From(Engine.MetricAccumulator a) => new(a.Mean, a.StandardError, a.Count, a.Max);
}
