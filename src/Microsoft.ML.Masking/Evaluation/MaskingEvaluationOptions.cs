using Microsoft.ML.Masking.Data;
using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Evaluation.Engine;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Training;

namespace Microsoft.ML.Masking.Evaluation;

/// <summary>Settings every masking evaluator shares: the data's columns, the network and the methods compared. Every property documents its default.</summary>
public abstract class MaskingEvaluationOptions
{
    /// <summary>
    /// Image column: a known-size vector of <see cref="float"/> in planar C×H×W order (as ExtractPixels writes it),
    /// in pixel space; the evaluator applies <see cref="Normalization"/> itself. Default: "Image".
    /// </summary>
    public string ImageColumnName { get; set; } = "Image";

    /// <summary>Label column: a key type with one value per class of the network. Default: "Label".</summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>
    /// The image layout. Default: null, meaning the <see cref="Classifier"/>'s, or else square images whose side
    /// follows from the image column's size and the network's input channels.
    /// </summary>
    public ImageShape? ImageShape { get; set; }

    /// <summary>
    /// The trained classifier to evaluate (as <c>mlContext.MulticlassClassification.Trainers.ResNet</c> fits it or
    /// <c>mlContext.Model.Load</c> returns it): its network, normalisation and image layout are used. Set this or
    /// <see cref="Model"/>. Default: null.
    /// </summary>
    public ResNetClassificationTransformer? Classifier { get; set; }

    /// <summary>
    /// A bare network to evaluate, used in place (moved to the MLContext's device), with <see cref="Normalization"/>.
    /// Set this or <see cref="Classifier"/>. Default: null.
    /// </summary>
    public ResNet? Model { get; set; }

    /// <summary>
    /// The per-channel normalisation <see cref="Model"/> was trained with, applied to the pixels before the network;
    /// it also defines grey (the data set's mean colour). Ignored with a <see cref="Classifier"/>, which carries its own.
    /// Default: null, meaning none (mean 0, deviation 1).
    /// </summary>
    public ChannelNormalization? Normalization { get; set; }

    /// <summary>The masking methods compared, in reporting order, each at most once. Default: every <see cref="MaskingMethod"/>.</summary>
    public IReadOnlyList<MaskingMethod> Methods { get; set; } = Enum.GetValues<MaskingMethod>();

    /// <summary>Images per forward pass. Default: 64.</summary>
    public int BatchSize { get; set; } = 64;

    /// <summary>Seed of every random draw (removal orders, noise). Results depend only on it and the data, not on the batch size. Default: 0.</summary>
    public int Seed { get; set; }

    /// <summary>σ in pixels of <see cref="MaskingMethod.Blur"/>. Default: 4.</summary>
    public double BlurSigma { get; set; } = 4.0;

    /// <summary>Checks the settings that do not depend on the data.</summary>
    internal virtual void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(ImageColumnName, nameof(ImageColumnName));
        ArgumentException.ThrowIfNullOrWhiteSpace(LabelColumnName, nameof(LabelColumnName));
        if ((Classifier is null) == (Model is null))
            throw new ArgumentException($"Set either {GetType().Name}.{nameof(Classifier)} (a trained classifier) or {nameof(Model)} (a network), not both.", nameof(Model));
        if (ImageShape is { } shape && (shape.Channels != Network.Architecture.InputChannels || shape.Height < 1 || shape.Width < 1))
            throw new ArgumentException($"ImageShape {shape} does not fit the network, which takes {Network.Architecture.InputChannels} channel(s).", nameof(ImageShape));
        if (Methods is null || Methods.Count == 0)
            throw new ArgumentException("Give at least one masking method.", nameof(Methods));
        if (Methods.Any(m => !Enum.IsDefined(m)) || Methods.Distinct().Count() != Methods.Count)
            throw new ArgumentException($"Methods must be known masking methods, each listed once; got [{string.Join(", ", Methods)}].", nameof(Methods));
        if (BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "must be at least 1");
        if (!(BlurSigma > 0))
            throw new ArgumentOutOfRangeException(nameof(BlurSigma), BlurSigma, "must be positive");
        NormalizationInEffect.EnsureChannels(Network.Architecture.InputChannels);
    }

    /// <summary>The network evaluated.</summary>
    internal ResNet Network => Classifier?.ResNet ?? Model ?? throw new InvalidOperationException("No network set.");

    /// <summary>The normalisation in effect.</summary>
    internal ChannelNormalization NormalizationInEffect =>
        Classifier?.Normalization ?? Normalization ?? ChannelNormalization.Identity(Network.Architecture.InputChannels);

    /// <summary>The image layout: the one given, the classifier's, or the square that fits the image column.</summary>
    internal ImageShape ResolveShape(DataViewSchema schema)
    {
        int channels = Network.Architecture.InputChannels;
        var column = schema.GetColumnOrNull(ImageColumnName) ?? throw SchemaChecks.NotFound("data", ImageColumnName);
        if (column.Type is not VectorDataViewType { ItemType: var item, Size: var size } || item != NumberDataViewType.Single || size == 0)
            throw SchemaChecks.Mismatch("data", ImageColumnName, "known-size vector of Single", $"{column.Type}");
        if ((ImageShape ?? Classifier?.ImageShape) is { } given)
            return given;
        int side = (int)Math.Round(Math.Sqrt(size / (double)channels));
        if (side * side * channels != size)
            throw new ArgumentException(
                $"Column '{ImageColumnName}' holds {size} values, which is not {channels} channel(s) of a square image; set ImageShape.", "data");
        return new ImageShape(channels, side, side);
    }
}
