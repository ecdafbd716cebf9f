using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Evaluation.Engine;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.Models;

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

    /// <summary>Image height in pixels. Default: 0, meaning square images whose side follows from the image column's size and the network's input channels.</summary>
    public int ImageHeight { get; set; }

    /// <summary>Image width in pixels. Default: 0, meaning square images (see <see cref="ImageHeight"/>).</summary>
    public int ImageWidth { get; set; }

    /// <summary>The classifier, used in place (moved to the MLContext's device). Required. Default: null.</summary>
    public ResNet? Model { get; set; }

    /// <summary>
    /// The per-channel normalisation the network was trained with, applied to the pixels before the network.
    /// It also defines grey (the data set's mean colour). Default: null, meaning none (mean 0, deviation 1).
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
        if (Model is null)
            throw new ArgumentException($"Set {GetType().Name}.{nameof(Model)} to the network to evaluate.", nameof(Model));
        if (ImageHeight < 0 || ImageWidth < 0 || (ImageHeight == 0) != (ImageWidth == 0))
            throw new ArgumentException($"Set both ImageHeight and ImageWidth (positive), or neither for square images; got {ImageHeight}×{ImageWidth}.");
        if (Methods is null || Methods.Count == 0)
            throw new ArgumentException("Give at least one masking method.", nameof(Methods));
        if (Methods.Any(m => !Enum.IsDefined(m)) || Methods.Distinct().Count() != Methods.Count)
            throw new ArgumentException($"Methods must be known masking methods, each listed once; got [{string.Join(", ", Methods)}].", nameof(Methods));
        if (BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "must be at least 1");
        if (!(BlurSigma > 0))
            throw new ArgumentOutOfRangeException(nameof(BlurSigma), BlurSigma, "must be positive");
        Normalization?.EnsureChannels(Model.Architecture.InputChannels);
    }

    /// <summary>The normalisation in effect.</summary>
    internal ChannelNormalization NormalizationOrIdentity => Normalization ?? ChannelNormalization.Identity(Model!.Architecture.InputChannels);

    /// <summary>The image layout: the given height and width, or the square that fits the image column.</summary>
    internal ImageGeometry ResolveGeometry(DataViewSchema schema)
    {
        int channels = Model!.Architecture.InputChannels;
        var column = schema.GetColumnOrNull(ImageColumnName) ?? throw SchemaChecks.NotFound("data", ImageColumnName);
        if (column.Type is not VectorDataViewType { ItemType: var item, Size: var size } || item != NumberDataViewType.Single || size == 0)
            throw SchemaChecks.Mismatch("data", ImageColumnName, "known-size vector of Single", $"{column.Type}");
        if (ImageHeight > 0)
            return new ImageGeometry(channels, ImageHeight, ImageWidth);
        int side = (int)Math.Round(Math.Sqrt(size / (double)channels));
        if (side * side * channels != size)
            throw new ArgumentException(
                $"Column '{ImageColumnName}' holds {size} values, which is not {channels} channel(s) of a square image; set ImageHeight and ImageWidth.", "data");
        return new ImageGeometry(channels, side, side);
    }
}
