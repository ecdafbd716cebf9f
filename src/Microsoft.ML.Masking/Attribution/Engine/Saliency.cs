using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>Saliency (Simonyan et al. 2014): |∂f/∂x|, the magnitude of the target score's gradient at each pixel and channel (Captum's <c>Saliency</c> with <c>abs=True</c>).</summary>
public sealed class Saliency : GradientMethod
{
    /// <summary>Creates the method.</summary>
    /// <param name="classifier">The network.</param>
    /// <param name="output">The output explained.</param>
    /// <param name="device">Where to compute; null for the classifier's device, else the CPU.</param>
    /// <param name="layerMasking">Take gradients through the layer-masked network when a batch carries keep-masks.</param>
    /// <param name="internalBatchSize">Images per pass.</param>
    /// <param name="absolute">True for |∂f/∂x| (Captum's default); false for the signed gradient.</param>
    public Saliency(ImageClassifier classifier, ScoreKind output = ScoreKind.Logit, int internalBatchSize = 64, bool absolute = true, Device? device = null, bool layerMasking = false)
        : base(classifier, output, internalBatchSize, device, layerMasking) => Absolute = absolute;

    /// <summary>Whether the gradient's magnitude is returned.</summary>
    public bool Absolute { get; }

    /// <inheritdoc/>
    public override string Name => "Saliency";

    /// <inheritdoc/>
    public override AttributionOutput Attribute(AttributionBatch batch)
    {
        var gradients = PlainGradients(batch.Pixels, batch.Targets, batch.Keep);
        return new AttributionOutput(Absolute ? gradients.abs() : gradients);
    }
}
