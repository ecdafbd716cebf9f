namespace Microsoft.ML.Masking.Ensemble;

/// <summary>How a <see cref="DynamicMaskEnsembleTrainer"/> combines its members' class probabilities.</summary>
public enum EnsembleAggregation
{
    /// <summary>The plain mean of the members' probabilities.</summary>
    Mean,

    /// <summary>A mean weighted by each member's accuracy on the validation set (needs <see cref="DynamicMaskEnsembleTrainer.Options.ValidationSet"/>).</summary>
    ValidationAccuracyWeighted,
}
