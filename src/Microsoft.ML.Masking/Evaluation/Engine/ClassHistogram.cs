namespace Microsoft.ML.Masking.Evaluation.Engine;

/// <summary>How often each class was predicted.</summary>
internal sealed class ClassHistogram(int classCount)
{
    private readonly long[] _counts = new long[classCount];

    /// <summary>Counts one prediction.</summary>
    public void Add(int predictedClass) => _counts[predictedClass]++;

    /// <summary>Entropy of the predicted-class frequencies in nats: 0 when every prediction is one class, ln(classes) when uniform.</summary>
    public double Entropy()
    {
        double total = _counts.Sum();
        if (total == 0) return double.NaN;
        double entropy = 0;
        foreach (long count in _counts)
        {
            if (count == 0) continue;
            double p = count / total;
            entropy -= p * Math.Log(p);
        }
        return entropy;
    }
}
