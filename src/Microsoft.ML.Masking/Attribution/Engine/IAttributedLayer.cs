using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// A network split at one layer, for layer attribution (Captum's <c>LayerIntegratedGradients</c>,
/// <c>LayerGradientShap</c>): the gradient methods then attribute the function <see cref="FromLayer"/> of the layer's
/// activation instead of the network as a function of its pixels. <c>FromLayer(ToLayer(x))</c> must be the network's
/// output for <c>x</c>. Both run in the caller's gradient mode and dispose scope.
/// </summary>
internal interface IAttributedLayer
{
    /// <summary>A name for messages, e.g. the module path "layer4".</summary>
    string LayerName { get; }

    /// <summary>The layer's activation [N, C, h, w] for normalised images [N, C, H, W].</summary>
    Tensor ToLayer(Tensor normalized);

    /// <summary>The network's logits [N, classes] from the layer's activation.</summary>
    Tensor FromLayer(Tensor activation);
}
