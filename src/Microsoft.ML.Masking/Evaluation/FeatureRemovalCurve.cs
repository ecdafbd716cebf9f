using Microsoft.ML.Masking.LayerMasking;

namespace Microsoft.ML.Masking.Evaluation;

/// <summary>The feature-removal curve of one masking method: one point per fraction removed, in the order asked for.</summary>
public sealed class FeatureRemovalCurve
{
    internal FeatureRemovalCurve(MaskingMethod method, IReadOnlyList<FeatureRemovalPoint> points)
    {
        Method = method;
        Points = points;
    }

    /// <summary>The masking method.</summary>
    public MaskingMethod Method { get; }

    /// <summary>The points, one per fraction.</summary>
    public IReadOnlyList<FeatureRemovalPoint> Points { get; }

    /// <summary>The point at <paramref name="fraction"/>.</summary>
    /// <exception cref="KeyNotFoundException">The fraction was not evaluated.</exception>
    public FeatureRemovalPoint At(double fraction) =>
        Points.FirstOrDefault(p => Math.Abs(p.Fraction - fraction) < 1e-9)
        ?? throw new KeyNotFoundException(FormattableString.Invariant($"Fraction {fraction} was not evaluated; the curve has [{string.Join(", ", Points.Select(p => p.Fraction.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]."));

    /// <summary>
    /// Area under the accuracy curve over the fractions evaluated (trapezoids, fractions sorted), divided by the
    /// span of fractions: the mean accuracy along the removal. NaN with a single fraction.
    /// </summary>
    public double MeanAccuracy
    {
        get
        {
            var sorted = Points.OrderBy(p => p.Fraction).ToArray();
            if (sorted.Length < 2) return double.NaN;
            double area = 0;
            for (int i = 1; i < sorted.Length; i++)
                area += (sorted[i].Fraction - sorted[i - 1].Fraction) * (sorted[i].Accuracy + sorted[i - 1].Accuracy) / 2;
            return area / (sorted[^1].Fraction - sorted[0].Fraction);
        }
    }
}
