using Microsoft.ML.Masking.Core.Segmentation;
using System.Text.Json.Serialization;
using Microsoft.ML.Masking.Attribution.Engine;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Evaluation;
using Microsoft.ML.Masking.LayerMasking;

namespace Microsoft.ML.Masking.Attribution;

/// <summary>
/// Settings of the perturbation methods, which need only scores: the model is a TorchSharp CNN
/// (<see cref="AttributionOptions.Classifier"/>) or any ML.NET transformer that
/// maps the image column to a score vector (<see cref="Scorer"/>: ApplyOnnxModel, DnnFeaturizeImage + a trainer, …).
/// Every property documents its default.
/// </summary>
public abstract class PerturbationAttributionOptions : AttributionOptions
{
    /// <summary>
    /// Any fitted ML.NET transformer that reads <see cref="AttributionOptions.ImageColumnName"/> and writes
    /// <see cref="ScoreColumnName"/>; perturbed images are painted in pixel space and run through it in batches.
    /// Default: null (use the TorchSharp model).
    /// </summary>
    [JsonIgnore]
    public ITransformer? Scorer { get; set; }

    /// <summary>
    /// The image layout <see cref="Scorer"/> reads (a <see cref="AttributionOptions.Classifier"/> carries its own). Default:
    /// null, meaning square images of 1 or 3 channels that fit the image column.
    /// </summary>
    public ImageShape? ImageShape { get; set; }

    /// <summary>
    /// For a <see cref="Scorer"/>: the per-channel statistics that define the fills (grey is the mean; noise has the
    /// deviation), since the transformer's own normalisation is unknown. Default: null, mean 0.5 and deviation 0.25 per
    /// channel (images in [0, 1]).
    /// </summary>
    [JsonIgnore]
    public ChannelNormalization? FillNormalization { get; set; }

    /// <summary>The score column <see cref="Scorer"/> writes: a known-size vector of <see cref="float"/>, one per class. Default: "Score".</summary>
    public string ScoreColumnName { get; set; } = "Score";

    /// <summary>
    /// How removed pixels are taken out. Default: null, meaning <see cref="MaskingMethod.LayerMasking"/> for a TorchSharp
    /// CNN and <see cref="MaskingMethod.Grey"/> for a <see cref="Scorer"/> (which cannot be layer-masked).
    /// </summary>
    public MaskingMethod? Removal { get; set; }

    /// <summary>The TorchSharp model's output explained (a <see cref="Scorer"/>'s score column is used as it is). Default: <see cref="ScoreKind.Probability"/>, what a Score column holds.</summary>
    public ScoreKind Output { get; set; } = ScoreKind.Probability;

    /// <summary>σ in pixels of <see cref="MaskingMethod.Blur"/>. Default: 4.</summary>
    public double BlurSigma { get; set; } = 4.0;

    /// <summary>The fill statistics in effect for a scorer of <paramref name="channels"/> channels.</summary>
    internal ChannelNormalization FillNormalizationFor(int channels) =>
        FillNormalization ?? new ChannelNormalization(Enumerable.Repeat(0.5f, channels).ToArray(), Enumerable.Repeat(0.25f, channels).ToArray());

    /// <summary>The removal method in effect.</summary>
    internal MaskingMethod RemovalInEffect => Removal ?? (Scorer is null ? MaskingMethod.LayerMasking : MaskingMethod.Grey);

    internal override void Validate()
    {
        base.Validate();
        if ((Classifier is null) == (Scorer is null))
            throw new ArgumentException($"Give {MethodName} one model: {MethodName}Options.{nameof(Classifier)} (TorchSharp) or {nameof(Scorer)} (any ML.NET transformer).", nameof(Scorer));
        ArgumentException.ThrowIfNullOrWhiteSpace(ScoreColumnName, nameof(ScoreColumnName));
        if (Removal is { } removal && !Enum.IsDefined(removal))
            throw new ArgumentOutOfRangeException(nameof(Removal), removal, "Unknown masking method.");
        if (Scorer is not null && RemovalInEffect == MaskingMethod.LayerMasking)
            throw new ArgumentException($"Layer masking runs inside a TorchSharp CNN; a {nameof(Scorer)} transformer only sees painted images. Choose a baseline for {nameof(Removal)} (Grey, Black, Blur, …) or give the CNN as {nameof(Classifier)}.", nameof(Removal));
        if (!Enum.IsDefined(Output)) throw new ArgumentOutOfRangeException(nameof(Output), Output, "Unknown output.");
        if (!(BlurSigma > 0) || !double.IsFinite(BlurSigma)) throw new ArgumentOutOfRangeException(nameof(BlurSigma), BlurSigma, "must be positive");
    }
}

/// <summary>Settings of the perturbation methods that remove segments. Every property documents its default.</summary>
public abstract class SegmentAttributionOptions : PerturbationAttributionOptions
{
    /// <summary>
    /// How images are cut into the segments removed: patches, SLIC superpixels or a segment column (the project's one
    /// segmentation module). Default: 4×4 patches.
    /// </summary>
    public SegmentationOptions Segmentation { get; set; } = new() { PatchSize = 4 };

    internal override void Validate()
    {
        base.Validate();
        ArgumentNullException.ThrowIfNull(Segmentation, nameof(Segmentation));
    }
}

/// <summary>Occlusion. Every property documents its default.</summary>
public sealed class OcclusionOptions : PerturbationAttributionOptions
{
    /// <summary>Side of the square window in pixels (at most the image's side). Default: 4.</summary>
    public int Window { get; set; } = 4;

    /// <summary>Step between windows in pixels. Default: null, meaning the window (non-overlapping windows).</summary>
    public int? Stride { get; set; }

    internal override string MethodName => "Occlusion";

    internal override void Validate()
    {
        base.Validate();
        if (Window < 1) throw new ArgumentOutOfRangeException(nameof(Window), Window, "The occlusion window is at least one pixel.");
        if (Stride is < 1) throw new ArgumentOutOfRangeException(nameof(Stride), Stride, "The stride is at least one pixel.");
    }
}

/// <summary>Feature ablation over segments. Every property documents its default.</summary>
public sealed class FeatureAblationOptions : SegmentAttributionOptions
{
    internal override string MethodName => "FeatureAblation";
}

/// <summary>RISE. Every property documents its default.</summary>
public sealed class RiseOptions : PerturbationAttributionOptions
{
    /// <summary>Random masks (the paper uses 4000–8000 on ImageNet). Default: 1000.</summary>
    public int MaskCount { get; set; } = 1000;

    /// <summary>Side of a grid cell in pixels (the paper's 7×7 grid on 224 px is 32 px cells). Default: 8.</summary>
    public int CellSize { get; set; } = 8;

    /// <summary>Probability a cell is kept. Default: 0.5.</summary>
    public double KeepProbability { get; set; } = 0.5;

    internal override string MethodName => "Rise";

    internal override void Validate()
    {
        base.Validate();
        if (MaskCount < 1) throw new ArgumentOutOfRangeException(nameof(MaskCount), MaskCount, "RISE needs at least one mask.");
        if (CellSize < 1) throw new ArgumentOutOfRangeException(nameof(CellSize), CellSize, "A cell is at least one pixel.");
        if (!(KeepProbability > 0 && KeepProbability < 1)) throw new ArgumentOutOfRangeException(nameof(KeepProbability), KeepProbability, "must lie strictly between 0 and 1");
    }
}

/// <summary>LIME over segments. Every property documents its default.</summary>
public sealed class LimeOptions : SegmentAttributionOptions
{
    /// <summary>Perturbed samples per image. Default: 512.</summary>
    public int Samples { get; set; } = 512;

    /// <summary>Width of the exponential kernel on the cosine distance of the on/off pattern (the LIME package's image default). Default: 0.25.</summary>
    public double KernelWidth { get; set; } = 0.25;

    /// <summary>The surrogate. Default: <see cref="SurrogateKind.Ridge"/>.</summary>
    public SurrogateKind Surrogate { get; set; } = SurrogateKind.Ridge;

    /// <summary>The surrogate's penalty. Default: null, meaning 1 for ridge (the LIME package) and 0.01 for lasso (Captum).</summary>
    public double? Alpha { get; set; }

    /// <summary>
    /// One sample matrix for all rows with the same segment count (drawn from the seed and the count) instead of one per
    /// row. With a segmentation that is the same on every row (patches), every row is then scored under the same masks,
    /// and layer masking derives its mask-only work (pooled masks, padding coefficients) once per mask set instead of
    /// once per row; the rows' sampling errors are then no longer independent. Default: false.
    /// </summary>
    public bool ShareSamplesAcrossRows { get; set; }

    /// <summary>Output column of the surrogate's weighted R² per row, or null for none. Default: "SurrogateR2".</summary>
    public string? SurrogateR2ColumnName { get; set; } = "SurrogateR2";

    internal override string MethodName => "Lime";

    internal override void Validate()
    {
        base.Validate();
        if (Samples < 1) throw new ArgumentOutOfRangeException(nameof(Samples), Samples, "LIME needs at least one sample.");
        if (!(KernelWidth > 0) || !double.IsFinite(KernelWidth)) throw new ArgumentOutOfRangeException(nameof(KernelWidth), KernelWidth, "must be positive");
        if (!Enum.IsDefined(Surrogate)) throw new ArgumentOutOfRangeException(nameof(Surrogate), Surrogate, "Unknown surrogate.");
        if (Alpha is { } alpha && (!(alpha >= 0) || !double.IsFinite(alpha))) throw new ArgumentOutOfRangeException(nameof(Alpha), alpha, "must be finite and non-negative");
    }
}

/// <summary>KernelSHAP over segments. Every property documents its default.</summary>
public sealed class KernelShapOptions : SegmentAttributionOptions
{
    /// <summary>Coalitions per image. Default: 512.</summary>
    public int Samples { get; set; } = 512;

    internal override string MethodName => "KernelShap";

    internal override void Validate()
    {
        base.Validate();
        if (Samples < 1) throw new ArgumentOutOfRangeException(nameof(Samples), Samples, "KernelSHAP needs at least one sample.");
    }
}
