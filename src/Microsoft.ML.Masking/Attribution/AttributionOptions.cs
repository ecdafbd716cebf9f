using System.Text.Json.Serialization;
using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution;

/// <summary>
/// Settings every attribution estimator shares: the columns, the class explained, the model and the batching. Every
/// property documents its default. The model is the project's one classifier description, <see cref="Classifier"/>
/// (perturbation methods may instead take any ML.NET transformer, see <see cref="PerturbationAttributionOptions.Scorer"/>).
/// </summary>
public abstract class AttributionOptions
{
    /// <summary>Image column: a known-size vector of <see cref="float"/>, planar C×H×W in pixel space. Default: "Image".</summary>
    public string ImageColumnName { get; set; } = "Image";

    /// <summary>Output column of the attribution map (H×W, or C×H×W for pixel-level gradient methods). Default: "Attribution".</summary>
    public string OutputColumnName { get; set; } = "Attribution";

    /// <summary>
    /// The class explained: <see cref="AttributionTarget.PredictedClass"/>, <see cref="AttributionTarget.Label"/> (each row's
    /// label column, which must then be in the data) or <see cref="AttributionTarget.FixedClass"/>.
    /// Default: <see cref="AttributionTarget.PredictedClass"/>.
    /// </summary>
    public AttributionTarget Target { get; set; } = AttributionTarget.PredictedClass;

    /// <summary>Rows read per batch (the kernel explains them together). Default: 16.</summary>
    public int BatchSize { get; set; } = 16;

    /// <summary>
    /// Images per forward (and backward) pass inside a batch — rows × steps or rows × samples are cut into passes of this
    /// size, so memory stays bounded however many steps or samples a method takes. Default: 64.
    /// </summary>
    public int InternalBatchSize { get; set; } = 64;

    /// <summary>
    /// Seed of every random draw. Draws depend on the seed and the image's content only, so an image gets the same
    /// explanation in any batch, at any position. Default: 0.
    /// </summary>
    public int Seed { get; set; }

    /// <summary>
    /// The TorchSharp classifier explained: network, normalisation (applied by the method; it also defines grey), image
    /// shape, class names and device. From a trained classifier: <c>trained.Classifier</c>; from a module:
    /// <see cref="ImageClassifier.FromModule"/>. Required by the gradient methods; perturbation methods take it or a
    /// <see cref="PerturbationAttributionOptions.Scorer"/>. Default: null.
    /// </summary>
    [JsonIgnore]
    public ImageClassifier? Classifier { get; set; }

    /// <summary>
    /// The network whose prediction a predicted-class target follows, when it is not <see cref="Classifier"/>: the
    /// randomisation check explains the trained network's predicted class on each randomised copy, so that only the
    /// parameters change between the two maps, not the class explained. Not saved; null means <see cref="Classifier"/>.
    /// </summary>
    internal ImageClassifier? TargetClassifier { get; set; }

    /// <summary>The method's name in errors and reports.</summary>
    internal abstract string MethodName { get; }

    /// <summary>Checks the settings that do not depend on the data.</summary>
    internal virtual void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(ImageColumnName, nameof(ImageColumnName));
        ArgumentException.ThrowIfNullOrWhiteSpace(OutputColumnName, nameof(OutputColumnName));
        ArgumentNullException.ThrowIfNull(Target, nameof(Target));
        if (!Enum.IsDefined(Target.Kind))
            throw new ArgumentOutOfRangeException(nameof(Target), Target.Kind, "Unknown target kind.");
        if (Target.Kind == AttributionTargetKind.FixedClass && Target.ClassIndex < 0)
            throw new ArgumentOutOfRangeException(nameof(Target), Target.ClassIndex, "The target class index must be non-negative.");
        if (Target.Kind == AttributionTargetKind.Label && string.IsNullOrWhiteSpace(Target.LabelColumnName))
            throw new ArgumentException("A label target needs the label column's name: AttributionTarget.Label(\"Label\").", nameof(Target));
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "must be at least 1");
        if (InternalBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(InternalBatchSize), InternalBatchSize, "must be at least 1");
    }

    /// <summary>The TorchSharp network, or null.</summary>
    internal nn.Module<Tensor, Tensor>? Network => Classifier?.Network;
}
