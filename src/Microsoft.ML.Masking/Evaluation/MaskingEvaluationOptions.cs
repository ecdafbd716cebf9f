using Microsoft.ML.Masking.Data;
using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.LayerMasking;

namespace Microsoft.ML.Masking.Evaluation;

/// <summary>Settings every masking evaluator shares: the data's columns, the network and the methods compared. Every property documents its default.</summary>
public abstract class MaskingEvaluationOptions
{
    /// <summary>
    /// Image column: a known-size vector of <see cref="float"/> in planar C×H×W order (as ExtractPixels writes it),
    /// in pixel space; the evaluator applies the <see cref="Classifier"/>'s normalisation itself. Default: "Image".
    /// </summary>
    public string ImageColumnName { get; set; } = "Image";

    /// <summary>Label column: a key type with one value per class of the network. Default: "Label".</summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>
    /// The classifier evaluated: network, normalisation (applied by the evaluator; it also defines grey), image shape
    /// and device. From a trained classifier: <c>trained.Classifier</c>; from a module: <see cref="ImageClassifier.FromModule"/>.
    /// Required; default: null.
    /// </summary>
    public ImageClassifier? Classifier { get; set; }

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
        if (Classifier is null)
            throw new ArgumentException(
                $"Set {GetType().Name}.{nameof(Classifier)}: a trained classifier's .Classifier, or ImageClassifier.FromModule(network, normalization, imageShape).",
                nameof(Classifier));
        if (Methods is null || Methods.Count == 0)
            throw new ArgumentException($"{GetType().Name}.{nameof(Methods)}: give at least one masking method.", nameof(Methods));
        if (Methods.Any(m => !Enum.IsDefined(m)) || Methods.Distinct().Count() != Methods.Count)
            throw new ArgumentException($"{GetType().Name}.{nameof(Methods)} must be known masking methods, each listed once; got [{string.Join(", ", Methods)}].", nameof(Methods));
        if (BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"{GetType().Name}.{nameof(BatchSize)} must be at least 1");
        if (!(BlurSigma > 0))
            throw new ArgumentOutOfRangeException(nameof(BlurSigma), BlurSigma, $"{GetType().Name}.{nameof(BlurSigma)} must be positive");
    }

    /// <summary>The classifier, once <see cref="Validate"/> has passed.</summary>
    internal ImageClassifier ClassifierInEffect => Classifier ?? throw new InvalidOperationException("No classifier set.");

    /// <summary>The image layout, after checking that the image column holds it (size, and dimensions where the column has them).</summary>
    internal ImageShape ResolveShape(DataViewSchema schema)
    {
        var shape = ClassifierInEffect.ImageShape;
        SchemaChecks.CheckImageVector(schema, ImageColumnName, shape);
        return shape;
    }
}
