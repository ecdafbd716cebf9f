namespace Microsoft.ML.Masking.Evaluation;

/// <summary>A quantity of <see cref="FeatureRemovalPoint"/> to plot against the fraction removed.</summary>
public enum FeatureRemovalMetric
{
    /// <summary><see cref="FeatureRemovalPoint.Accuracy"/>.</summary>
    Accuracy,
    /// <summary><see cref="FeatureRemovalPoint.Unchanged"/>.</summary>
    Unchanged,
    /// <summary><see cref="FeatureRemovalPoint.ClassEntropy"/>.</summary>
    ClassEntropy,
}
