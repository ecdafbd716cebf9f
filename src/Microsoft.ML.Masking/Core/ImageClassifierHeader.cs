using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Models;

namespace Microsoft.ML.Masking.Core;

/// <summary>
/// What a model.zip entry stores about an <see cref="ImageClassifier"/> besides its weights: enough to rebuild the
/// network and to feed it. The one saved form of the classifier description, shared by every transformer that holds one.
/// </summary>
/// <param name="Architecture">The ResNet to build before loading the weights, or null when <paramref name="TorchVision"/> describes the network.</param>
/// <param name="ImageShape">The image layout.</param>
/// <param name="ChannelMean">Per-channel mean of the normalisation.</param>
/// <param name="ChannelStandardDeviation">Per-channel standard deviation of the normalisation.</param>
/// <param name="ClassNames">Class names in score order, or null.</param>
/// <param name="ChannelOrder">The normalisation's <see cref="ChannelNormalization.ChannelOrder"/>, or null (kept order).</param>
/// <param name="MeanImage">The normalisation's per-pixel mean image (shaped like <paramref name="ImageShape"/>), or null.
/// Stored in the JSON with the rest of the description: 150,528 floats for ML.NET's ResNet-18, small next to its weights.</param>
/// <param name="NoClassifierHead">True for a backbone whose output is its features (<see cref="ImageClassifier.HasClassifierHead"/> false);
/// null otherwise, so headers written before these fields existed read as they were.</param>
/// <param name="TorchVision">The TorchVision classifier to build when the network is not a <see cref="ResNet"/>
/// (VGG, AlexNet, MobileNetV2/V3); null for a ResNet, as in every header written before it existed.</param>
/// <param name="Onnx">The layers of a network imported from ONNX (<see cref="Models.Onnx.OnnxNetwork"/>), or null.</param>
internal sealed record ImageClassifierHeader(
    ResNetArchitecture? Architecture, ImageShape ImageShape, float[] ChannelMean, float[] ChannelStandardDeviation, string[]? ClassNames,
    int[]? ChannelOrder = null, float[]? MeanImage = null, bool? NoClassifierHead = null, TorchVisionArchitecture? TorchVision = null,
    Models.Onnx.OnnxLayerGraph? Onnx = null)
{
    /// <summary>The network this header describes, with fresh weights (load the saved ones into it), in evaluation mode.</summary>
    /// <exception cref="FormatException">The header names no ResNet, TorchVision architecture or ONNX layer list.</exception>
    public TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> BuildNetwork()
    {
        if (Architecture is not null)
        {
            var network = new ResNet(Architecture);
            network.eval();
            return network;
        }
        if (Onnx is not null)
            return new Models.Onnx.OnnxNetwork(Onnx);
        return TorchVision?.Build() ?? throw new FormatException("The saved classifier names no ResNet, TorchVision architecture or ONNX layer list.");
    }
}
