namespace Microsoft.ML.Masking.Evaluation.Engine;

/// <summary>Running mean and standard error of the mean of per-image values.</summary>
internal sealed class MeanAccumulator
{
    private double _sum, _sumOfSquares;

    /// <summary>Values added.</summary>
    public long Count { get; private set; }

    /// <summary>Adds one image's value.</summary>
    public void Add(double value)
    {
        Count++;
        _sum += value;
        _sumOfSquares += value * value;
    }

    /// <summary>The mean; NaN when nothing was added.</summary>
    public double Mean => Count == 0 ? double.NaN : _sum / Count;

    /// <summary>Sample standard deviation over √n; NaN with fewer than two values.</summary>
    public double StandardError
    {
        get
        {
            if (Count < 2) return double.NaN;
            double variance = Math.Max(0, (_sumOfSquares - _sum * _sum / Count) / (Count - 1));
            return Math.Sqrt(variance / Count);
        }
    }
}
