using Microsoft.ML.Masking.Models;

namespace Microsoft.ML.Masking.LayerMasking;

/// <summary>Settings of <see cref="LayerMaskingEstimator"/>. Every property documents its default.</summary>
public sealed class LayerMaskingOptions
{
    /// <summary>Input image column: a known-size vector of <see cref="float"/> in planar C×H×W order, as
    /// <c>ExtractPixels</c> produces. Default: "Image".</summary>
    public string ImageColumnName { get; set; } = "Image";

    /// <summary>Keep-mask column: a known-size vector of <see cref="float"/> of H×W values, 1 = kept, 0 = removed
    /// (broadcast over channels). Default: "Mask".</summary>
    public string MaskColumnName { get; set; } = "Mask";

    /// <summary>Output column of class scores (softmax probabilities, or logits when <see cref="OutputLogits"/>). Default: "Score".</summary>
    public string ScoreColumnName { get; set; } = "Score";

    /// <summary>Optional output column of the penultimate features (what enters the final linear layer). Default: null (not produced).</summary>
    public string? FeaturesColumnName { get; set; }

    /// <summary>
    /// True when the mask column marks the pixels to <em>remove</em> (1 = remove), as an object segmentation does;
    /// false when it marks the pixels to keep. Default: false.
    /// </summary>
    public bool MaskMarksRemoved { get; set; }

    /// <summary>
    /// Class names in score order. When set, a key-typed <see cref="PredictedLabelColumnName"/> column with these
    /// key values is added, so <c>mlContext.MulticlassClassification.Evaluate</c> accepts the output. Default: null.
    /// </summary>
    public IReadOnlyList<string>? ClassNames { get; set; }

    /// <summary>Output column of the top class (only with <see cref="ClassNames"/>). Default: "PredictedLabel".</summary>
    public string PredictedLabelColumnName { get; set; } = "PredictedLabel";

    /// <summary>Image channels. Default: 3.</summary>
    public int ImageChannels { get; set; } = 3;

    /// <summary>Image height in pixels; required (the transform never resizes).</summary>
    public int ImageHeight { get; set; }

    /// <summary>Image width in pixels; required (the transform never resizes).</summary>
    public int ImageWidth { get; set; }

    /// <summary>How removed pixels are taken out. Default: <see cref="MaskingMethod.LayerMasking"/>.</summary>
    public MaskingMethod Method { get; set; } = MaskingMethod.LayerMasking;

    /// <summary>
    /// Per-channel mean subtracted from the pixel values before the network (pixel scale, e.g. 0–255 when
    /// ExtractPixels keeps bytes). ExtractPixels can only apply one offset and scale to all channels; this one is
    /// per channel. Default: null (zero for every channel; the column is already normalised).
    /// </summary>
    public float[]? ChannelMean { get; set; }

    /// <summary>Per-channel standard deviation the centred pixels are divided by. Default: null (one for every channel).</summary>
    public float[]? ChannelStandardDeviation { get; set; }

    /// <summary>σ in pixels of <see cref="MaskingMethod.Blur"/>. Default: 4.</summary>
    public double BlurSigma { get; set; } = 4.0;

    /// <summary>Seed of <see cref="MaskingMethod.Noise"/>: every batch draws its noise from a fresh generator with this seed, so a row's noise depends only on its place in the batch. Default: 0.</summary>
    public int NoiseSeed { get; set; }

    /// <summary>True: the score column holds logits; false: softmax probabilities, like ML.NET's multiclass scores. Default: false.</summary>
    public bool OutputLogits { get; set; }

    /// <summary>Rows per forward pass. Default: 32.</summary>
    public int BatchSize { get; set; } = 32;

    /// <summary>
    /// The network, used in place (its weights are not copied). Set this or <see cref="WeightsPath"/> with
    /// <see cref="Architecture"/>. Default: null.
    /// </summary>
    public ResNet? Model { get; set; }

    /// <summary>Architecture to build when loading <see cref="WeightsPath"/>. Default: null.</summary>
    public ResNetArchitecture? Architecture { get; set; }

    /// <summary>
    /// Weights file to load into <see cref="Architecture"/>: safetensors, or a PyTorch <c>state_dict</c> saved
    /// with <c>torch.save</c> (.pt/.pth), torchvision parameter names. Default: null.
    /// </summary>
    public string? WeightsPath { get; set; }
}
