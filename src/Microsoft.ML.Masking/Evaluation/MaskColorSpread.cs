using Microsoft.ML.Masking.LayerMasking;

namespace Microsoft.ML.Masking.Evaluation;

/// <summary>
/// How much predictions move when the removed region is painted with different colours. All zero spread (agreement
/// 1, one distinct prediction, no probability change) means the colour under the mask does not matter.
/// </summary>
public sealed class MaskColorSpread
{
    internal MaskColorSpread(MaskingMethod? method, string name, double agreement, double agreementStandardError, double meanDistinctPredictions,
        double probabilitySpread, double probabilitySpreadStandardError, IReadOnlyDictionary<string, double> accuracyByFill)
    {
        Method = method;
        Name = name;
        Agreement = agreement;
        AgreementStandardError = agreementStandardError;
        MeanDistinctPredictions = meanDistinctPredictions;
        ProbabilitySpread = probabilitySpread;
        ProbabilitySpreadStandardError = probabilitySpreadStandardError;
        AccuracyByFill = accuracyByFill;
    }

    /// <summary>The masking method applied to the painted images; null for the painted input itself.</summary>
    public MaskingMethod? Method { get; }

    /// <summary>What was scored: "painted input" (the network sees the paint) or the masking method's name.</summary>
    public string Name { get; }

    /// <summary>Fraction of images predicted as the same class under every fill.</summary>
    public double Agreement { get; }

    /// <summary>Standard error of <see cref="Agreement"/>; NaN below two images.</summary>
    public double AgreementStandardError { get; }

    /// <summary>Mean number of distinct classes predicted for an image across the fills (1 = no dependence).</summary>
    public double MeanDistinctPredictions { get; }

    /// <summary>
    /// Mean over images of the largest change, between any two fills, of the probability of any class
    /// (max over classes of max − min over fills of the softmax); 0 when the outputs are identical.
    /// </summary>
    public double ProbabilitySpread { get; }

    /// <summary>Standard error of <see cref="ProbabilitySpread"/>; NaN below two images.</summary>
    public double ProbabilitySpreadStandardError { get; }

    /// <summary>Top-1 accuracy under each fill, by fill name.</summary>
    public IReadOnlyDictionary<string, double> AccuracyByFill { get; }
}
