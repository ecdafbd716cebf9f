using Microsoft.ML.Masking.Attribution.Engine;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Segmentation;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Evaluation;
using Microsoft.ML.Masking.LayerMasking;

namespace Microsoft.ML.Masking.Attribution.Metrics;

/// <summary>
/// What <c>mlContext.AttributionEvaluation().Evaluate</c> measures an attribution column with. Every property documents its default.
/// </summary>
public sealed class AttributionEvaluationOptions
{
    /// <summary>Image column (planar C×H×W floats, pixel space). Default: "Image".</summary>
    public string ImageColumnName { get; set; } = "Image";

    /// <summary>The attribution column: H×W floats (reduce pixel-level gradients with <see cref="ChannelReduction"/> first). Default: "Attribution".</summary>
    public string AttributionColumnName { get; set; } = "Attribution";

    /// <summary>Label column, a key with one value per class (for accuracy and top-k ablation). Default: "Label".</summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>Column of ground-truth object masks (H×W, 1 = object) for the localisation metrics; null to skip them. Default: null.</summary>
    public string? ObjectMaskColumnName { get; set; }

    /// <summary>
    /// The classifier whose explanations are evaluated (<c>trained.Classifier</c>, or <see cref="ImageClassifier.FromModule"/>):
    /// its network, normalisation and image shape. Required; default: null.
    /// </summary>
    public ImageClassifier? Classifier { get; set; }

    /// <summary>The removal methods of the faithfulness metrics. Default: layer masking, grey and black.</summary>
    public IReadOnlyList<MaskingMethod> Removals { get; set; } = [MaskingMethod.LayerMasking, MaskingMethod.Grey, MaskingMethod.Black];

    /// <summary>Also remove by ROAD's noisy linear imputation (<see cref="RoadScorer"/>). Default: true.</summary>
    public bool Road { get; set; } = true;

    /// <summary>Fractions of the segments removed or inserted along the curves. Default: 0, 0.1, …, 1.</summary>
    public IReadOnlyList<double> Fractions { get; set; } = Enumerable.Range(0, 11).Select(i => i / 10.0).ToArray();

    /// <summary>The units removed, ranked by mean attribution (ties in seeded random order). Default: 2×2 patches.</summary>
    public SegmentationOptions Segmentation { get; set; } = new() { PatchSize = 2 };

    /// <summary>Top-k ablation: how many of the most relevant segments of <see cref="TopKSegmentation"/> are removed. Default: 1, 3, 5.</summary>
    public IReadOnlyList<int> TopK { get; set; } = [1, 3, 5];

    /// <summary>The segments of top-k ablation (the LIME paper removes LIME's segments). Default: 4×4 patches.</summary>
    public SegmentationOptions TopKSegmentation { get; set; } = new() { PatchSize = 4 };

    /// <summary>
    /// Also measure completeness: |Σ attribution − (f(x) − f(baseline))| / |f(x) − f(baseline)| on the logit of the
    /// predicted class, for path methods (Integrated Gradients) whose attribution column sums to the same total
    /// (H×W with <see cref="ChannelReduction.Sum"/>). Default: null (not measured).
    /// </summary>
    public AttributionBaseline? CompletenessBaseline { get; set; }

    /// <summary>
    /// Faithfulness correlation (Bhatt et al. 2020, as Quantus defines it): per row, this many runs each remove a random
    /// subset of <see cref="FaithfulnessCorrelationSubsetSize"/> pixels (by every removal method) and Pearson's ρ is taken
    /// between the attribution summed over the subset and the drop of the target's logit. 0 skips it. Default: 0 (Quantus: 100).
    /// </summary>
    public int FaithfulnessCorrelationRuns { get; set; }

    /// <summary>Pixels removed per faithfulness-correlation run; fewer than the image's pixels. Default: 224 (Quantus's).</summary>
    public int FaithfulnessCorrelationSubsetSize { get; set; } = 224;

    /// <summary>
    /// Linearity of removal (the layer-masking paper's linearity experiment): per row, this many random on/off patterns
    /// of the <see cref="TopKSegmentation"/> segments (each kept with probability ½) are scored by every removal
    /// method, a least-squares linear model of the target's logit in the segment indicators is fitted on the first
    /// three quarters and its R² measured on the last quarter (the logit, because the softmax would bend even a linear
    /// model; a linear model under a constant fill scores exactly 1). It depends on the model and the removal, not on the
    /// attribution: LIME's surrogate can only be as good as it. 0 skips it. Default: 0.
    /// </summary>
    public int LinearitySamples { get; set; }

    /// <summary>
    /// Infidelity (Yeh et al. 2019, Captum's <c>infidelity</c>): per row, this many perturbations I ~ N(0, σ²) of every
    /// pixel value, and the mean of (Iᵀφ − (f(x) − f(x − I)))² on the target's logit, φ the H×W attribution applied to
    /// the channel sum of I. 0 skips it. Default: 0 (Captum: 10).
    /// </summary>
    public int InfidelitySamples { get; set; }

    /// <summary>σ of infidelity's perturbations, in pixel units. Default: 0.05.</summary>
    public double InfidelityNoise { get; set; } = 0.05;

    /// <summary>
    /// Scale each row's attribution by the β that minimises its infidelity first (Captum's <c>normalize=True</c>), so only
    /// the attribution's direction is judged. Default: false (Captum's default).
    /// </summary>
    public bool InfidelityNormalize { get; set; }

    /// <summary>Images per forward pass. Default: 64.</summary>
    public int BatchSize { get; set; } = 64;

    /// <summary>Seed of the tie-breaking orders and the noise fills. Default: 0.</summary>
    public int Seed { get; set; }

    internal ImageClassifier ClassifierInEffect => Classifier ?? throw new InvalidOperationException("No classifier set.");

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(ImageColumnName, nameof(ImageColumnName));
        ArgumentException.ThrowIfNullOrWhiteSpace(AttributionColumnName, nameof(AttributionColumnName));
        ArgumentException.ThrowIfNullOrWhiteSpace(LabelColumnName, nameof(LabelColumnName));
        if (Classifier is null)
            throw new ArgumentException("Set AttributionEvaluationOptions.Classifier: a trained classifier's .Classifier, or ImageClassifier.FromModule(network, normalization, imageShape).", nameof(Classifier));
        if (Removals is null || Removals.Any(m => !Enum.IsDefined(m)) || Removals.Distinct().Count() != Removals.Count)
            throw new ArgumentException("Removals must be known masking methods, each listed once.", nameof(Removals));
        if (Removals.Count == 0 && !Road)
            throw new ArgumentException("Give at least one removal method (Removals, or Road).", nameof(Removals));
        if (Fractions is null || Fractions.Count < 2 || Fractions.Any(f => !(f >= 0 && f <= 1)) || Fractions.Zip(Fractions.Skip(1)).Any(p => p.Second <= p.First))
            throw new ArgumentException("Fractions must be at least two increasing values in [0, 1].", nameof(Fractions));
        if (TopK is null || TopK.Any(k => k < 1))
            throw new ArgumentException("TopK values must be at least 1.", nameof(TopK));
        ArgumentNullException.ThrowIfNull(Segmentation, nameof(Segmentation));
        ArgumentNullException.ThrowIfNull(TopKSegmentation, nameof(TopKSegmentation));
        if (Segmentation.Kind == SegmentationKind.Column || TopKSegmentation.Kind == SegmentationKind.Column)
            throw new ArgumentException("The evaluation segments images itself: use patches or superpixels.", nameof(Segmentation));
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "must be at least 1");
        if (FaithfulnessCorrelationRuns < 0)
            throw new ArgumentOutOfRangeException(nameof(FaithfulnessCorrelationRuns), FaithfulnessCorrelationRuns, "must be 0 (skip) or more");
        if (FaithfulnessCorrelationRuns == 1)
            throw new ArgumentOutOfRangeException(nameof(FaithfulnessCorrelationRuns), FaithfulnessCorrelationRuns, "a correlation needs at least two runs");
        if (FaithfulnessCorrelationSubsetSize < 1)
            throw new ArgumentOutOfRangeException(nameof(FaithfulnessCorrelationSubsetSize), FaithfulnessCorrelationSubsetSize, "must be at least 1");
        if (LinearitySamples is < 0 or (> 0 and < 8))
            throw new ArgumentOutOfRangeException(nameof(LinearitySamples), LinearitySamples, "must be 0 (skip) or at least 8 (a quarter of them are held out)");
        if (InfidelitySamples < 0)
            throw new ArgumentOutOfRangeException(nameof(InfidelitySamples), InfidelitySamples, "must be 0 (skip) or more");
        if (!(InfidelityNoise > 0) || !double.IsFinite(InfidelityNoise))
            throw new ArgumentOutOfRangeException(nameof(InfidelityNoise), InfidelityNoise, "must be finite and positive");
    }

    /// <summary>Checks the settings that depend on the image size.</summary>
    internal void Validate(ImageShape shape)
    {
        if (FaithfulnessCorrelationRuns > 0 && FaithfulnessCorrelationSubsetSize >= shape.Pixels)
            throw new ArgumentOutOfRangeException(nameof(FaithfulnessCorrelationSubsetSize), FaithfulnessCorrelationSubsetSize,
                $"Faithfulness correlation removes fewer pixels than the {shape.Height}×{shape.Width} image has ({shape.Pixels}).");
    }
}
