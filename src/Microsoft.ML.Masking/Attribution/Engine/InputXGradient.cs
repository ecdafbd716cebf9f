using static TorchSharp.torch;
using Microsoft.ML.Masking.Core;
namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>Input × Gradient: x · ∂f/∂x per pixel and channel (Captum's <c>InputXGradient</c>; x in pixel space).</summary>
public sealed class InputXGradient : GradientMethod
{
    /// <summary>Creates the method.</summary>
    public InputXGradient(ImageClassifier classifier, ScoreKind output = ScoreKind.Logit, int internalBatchSize = 64, Device? device = null, bool layerMasking = false)
        : base(classifier, output, internalBatchSize, device, layerMasking)
    {
    }

    /// <inheritdoc/>
    public override string Name => "InputXGradient";

    /// <inheritdoc/>
    public override AttributionOutput Attribute(AttributionBatch batch) =>
        new(PlainGradients(batch.Pixels, batch.Targets, batch.Keep).mul(batch.Pixels.to(Torch.Device)));
}
