namespace Microsoft.ML.Masking.Attribution.Metrics;

/// <summary>What <c>mlContext.AttributionEvaluation().EvaluateMaxSensitivity</c> measured.</summary>
public sealed class MaxSensitivityResult
{
    internal MaxSensitivityResult(string method, int samples, double radius, bool fixedSegments, MetricValue maxSensitivity)
    {
        FixedSegments = fixedSegments;
        Method = method;
        Samples = samples;
        Radius = radius;
        MaxSensitivity = maxSensitivity;
    }

    /// <summary>The method evaluated.</summary>
    public string Method { get; }

    /// <summary>Noise draws per row.</summary>
    public int Samples { get; }

    /// <summary>Half-width of the uniform noise, in pixel units.</summary>
    public double Radius { get; }

    /// <summary>True when the noisy copies kept their row's segmentation and random draws (only the input noise varied).</summary>
    public bool FixedSegments { get; }

    /// <summary>Per row, max over the draws of ‖Φ(x + δ) − Φ(x)‖₂ / ‖Φ(x)‖₂ (rows with an all-zero attribution are left out). Lower is more robust.</summary>
    public MetricValue MaxSensitivity { get; }
}
