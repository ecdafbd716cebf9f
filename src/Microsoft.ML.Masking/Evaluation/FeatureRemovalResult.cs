using Microsoft.ML.Masking.Core.Reporting;
using Microsoft.ML.Masking.LayerMasking;

namespace Microsoft.ML.Masking.Evaluation;

/// <summary>
/// Feature-removal curves: for each masking method, accuracy, predictions unchanged and class entropy as a growing
/// fraction of every image is removed. Every method saw the same removal masks, so differences are paired.
/// </summary>
public sealed class FeatureRemovalResult
{
    internal FeatureRemovalResult(IReadOnlyList<double> fractions, IReadOnlyList<FeatureRemovalCurve> curves, double cleanAccuracy,
        long rowCount, int repeats, int classCount, double meanSegmentCount)
    {
        Fractions = fractions;
        Curves = curves;
        CleanAccuracy = cleanAccuracy;
        RowCount = rowCount;
        Repeats = repeats;
        ClassCount = classCount;
        MeanSegmentCount = meanSegmentCount;
    }

    /// <summary>The fractions of segments removed, in the order asked for.</summary>
    public IReadOnlyList<double> Fractions { get; }

    /// <summary>One curve per masking method, in the order asked for.</summary>
    public IReadOnlyList<FeatureRemovalCurve> Curves { get; }

    /// <summary>Top-1 accuracy on the whole images.</summary>
    public double CleanAccuracy { get; }

    /// <summary>Images evaluated.</summary>
    public long RowCount { get; }

    /// <summary>Removal orders drawn per image.</summary>
    public int Repeats { get; }

    /// <summary>Classes of the network.</summary>
    public int ClassCount { get; }

    /// <summary>Mean number of segments per image.</summary>
    public double MeanSegmentCount { get; }

    /// <summary>The curve of <paramref name="method"/>.</summary>
    /// <exception cref="KeyNotFoundException">The method was not evaluated.</exception>
    public FeatureRemovalCurve Curve(MaskingMethod method) =>
        EvaluatedMethods.Find(Curves, method, c => c.Method);

    /// <summary>
    /// The curves as CSV, one row per method and fraction: method, fraction, pixels_removed, accuracy, accuracy_se,
    /// unchanged, unchanged_se, class_entropy.
    /// </summary>
    public string ToCsv() => CsvText.Build(
        ["method", "fraction", "pixels_removed", "accuracy", "accuracy_se", "unchanged", "unchanged_se", "class_entropy"],
        Curves.SelectMany(c => c.Points.Select(p => (IReadOnlyList<object>)
            [c.Method.ToString(), p.Fraction, p.PixelsRemoved, p.Accuracy, p.AccuracyStandardError, p.Unchanged, p.UnchangedStandardError, p.ClassEntropy])));

    /// <summary>Writes <see cref="ToCsv"/> to <paramref name="path"/>.</summary>
    public void SaveCsv(string path) => File.WriteAllText(path, ToCsv());

    /// <summary>
    /// An SVG chart of <paramref name="metric"/> against the fraction removed, one line per method (layer masking
    /// drawn thicker), with ±1 standard-error whiskers where there are any and, for accuracy, chance as a dashed line.
    /// </summary>
    /// <param name="metric">What to plot.</param>
    /// <param name="title">Chart title. Default: the metric's name and the image count.</param>
    public string ToSvg(FeatureRemovalMetric metric = FeatureRemovalMetric.Accuracy, string? title = null)
    {
        (string label, double yMax, Func<FeatureRemovalPoint, (double, double)> value) = metric switch
        {
            FeatureRemovalMetric.Accuracy => ("top-1 accuracy", 1.0, p => (p.Accuracy, p.AccuracyStandardError)),
            FeatureRemovalMetric.Unchanged => ("predictions unchanged", 1.0, p => (p.Unchanged, p.UnchangedStandardError)),
            FeatureRemovalMetric.ClassEntropy => ("class entropy (nats)", Math.Log(ClassCount), (Func<FeatureRemovalPoint, (double, double)>)(p => (p.ClassEntropy, double.NaN))),
            _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown metric."),
        };
        var chart = new SvgLineChart
        {
            Title = title ?? $"{char.ToUpperInvariant(label[0])}{label[1..]} vs fraction removed (n = {RowCount})",
            XLabel = "fraction of segments removed",
            YLabel = label,
            XMin = Math.Min(0, Fractions.Min()),
            XMax = Math.Max(1, Fractions.Max()),
            YMax = yMax > 0 ? yMax : 1,
            Lines = Curves.Select(c => new SvgLineChart.Series(c.Method.ToString(),
                c.Points.Select(p => { var (y, e) = value(p); return (p.Fraction, y, e); }).ToArray(),
                Emphasised: c.Method == MaskingMethod.LayerMasking)).ToArray(),
            Reference = metric == FeatureRemovalMetric.Accuracy ? (1.0 / ClassCount, $"chance (1/{ClassCount})") : null,
        };
        return chart.ToSvg();
    }

    /// <summary>Writes <see cref="ToSvg"/> to <paramref name="path"/>.</summary>
    public void SaveSvg(string path, FeatureRemovalMetric metric = FeatureRemovalMetric.Accuracy, string? title = null) =>
        File.WriteAllText(path, ToSvg(metric, title));
}
