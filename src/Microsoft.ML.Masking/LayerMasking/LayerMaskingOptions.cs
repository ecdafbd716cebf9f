using Microsoft.ML.Masking.Core;

namespace Microsoft.ML.Masking.LayerMasking;

/// <summary>Settings of <see cref="LayerMaskingEstimator"/>. Every property documents its default.</summary>
public sealed class LayerMaskingOptions
{
    /// <summary>
    /// The classifier: network, normalisation, image shape, class names and device. The image column must hold
    /// its <see cref="ImageClassifier.ImageShape"/> in pixel space (the transform normalises) and the mask column one
    /// value per pixel. Required; default: null.
    /// </summary>
    public ImageClassifier? Classifier { get; set; }

    /// <summary>Input image column: a known-size vector of <see cref="float"/> in planar C×H×W order, as
    /// <c>ExtractPixels</c> produces by default (not interleaved), in pixel space. Default: "Image".</summary>
    public string ImageColumnName { get; set; } = "Image";

    /// <summary>Keep-mask column: a known-size vector of <see cref="float"/> of H×W values in row-major order (row by
    /// row, index = y·W + x), 1 = kept, 0 = removed (broadcast over channels). Removed pixels may hold any value, NaN
    /// included, for every method but <see cref="MaskingMethod.Blur"/>, which blurs the whole image. Default: "Mask".</summary>
    public string MaskColumnName { get; set; } = "Mask";

    /// <summary>Output column of class scores (softmax probabilities, or logits when <see cref="OutputLogits"/>); for a classifier without a head
    /// (<see cref="ImageClassifier.HasClassifierHead"/> false) its pooled features. Default: "Score".</summary>
    public string ScoreColumnName { get; set; } = "Score";

    /// <summary>Optional output column of the penultimate features (what enters the final linear layer). Default: null (not produced).</summary>
    public string? FeaturesColumnName { get; set; }

    /// <summary>
    /// True when the mask column marks the pixels to <em>remove</em> (1 = remove), as an object segmentation does;
    /// false when it marks the pixels to keep. Default: false.
    /// </summary>
    public bool MaskMarksRemoved { get; set; }

    /// <summary>
    /// Output key column of the top class, added when the <see cref="Classifier"/> has class names (its key values),
    /// so <c>mlContext.MulticlassClassification.Evaluate</c> accepts the output. Default: "PredictedLabel".
    /// </summary>
    public string PredictedLabelColumnName { get; set; } = "PredictedLabel";

    /// <summary>
    /// A key-typed label column that orders the outputs: when the data given to Fit has it and its key values are the
    /// classifier's class names in another order (ML.NET's <c>MapValueToKey</c> orders by first occurrence), Score's
    /// slots and PredictedLabel's keys follow the label's order, so <c>MulticlassClassification.Evaluate</c> compares
    /// the right classes; other key values fail Fit. Null skips this. Default: "Label".
    /// </summary>
    public string? LabelColumnName { get; set; } = "Label";

    /// <summary>How removed pixels are taken out. Default: <see cref="MaskingMethod.LayerMasking"/>.</summary>
    public MaskingMethod Method { get; set; } = MaskingMethod.LayerMasking;

    /// <summary>σ in pixels of <see cref="MaskingMethod.Blur"/>. Default: 4.</summary>
    public double BlurSigma { get; set; } = 4.0;

    /// <summary>Seed of <see cref="MaskingMethod.Noise"/>: each row's noise is drawn from a generator seeded with this seed and the row's position in the data view, so it does not depend on the batch size. Default: 0.</summary>
    public int NoiseSeed { get; set; }

    /// <summary>True: the score column holds logits; false: softmax probabilities, like ML.NET's multiclass scores. Default: false.</summary>
    public bool OutputLogits { get; set; }

    /// <summary>Rows per forward pass. Default: 32.</summary>
    public int BatchSize { get; set; } = 32;
}
