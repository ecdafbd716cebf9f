namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>Running mean, standard error and maximum of per-row metric values (NaN values are skipped and counted).</summary>
internal sealed class MetricAccumulator
{
    private double _sum, _sumOfSquares;

    public long Count { get; private set; }

    public long Skipped { get; private set; }

    public double Max { get; private set; } = double.NaN;

    public void Add(double value)
    {
        if (double.IsNaN(value)) { Skipped++; return; }
        Count++;
        _sum += value;
        _sumOfSquares += value * value;
        Max = double.IsNaN(Max) ? value : Math.Max(Max, value);
    }

    public double Mean => Count == 0 ? double.NaN : _sum / Count;

    public double StandardError => Count < 2 ? double.NaN : Math.Sqrt(Math.Max(0, (_sumOfSquares - _sum * _sum / Count) / (Count - 1)) / Count);
}
