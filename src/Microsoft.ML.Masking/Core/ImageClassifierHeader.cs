using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Models;

namespace Microsoft.ML.Masking.Core;

/// <summary>
/// What a model.zip entry stores about an <see cref="ImageClassifier"/> besides its weights: enough to rebuild the
/// network and to feed it. The one saved form of the classifier description, shared by every transformer that holds one.
/// </summary>
/// <param name="Architecture">The ResNet to build before loading the weights.</param>
/// <param name="ImageShape">The image layout.</param>
/// <param name="ChannelMean">Per-channel mean of the normalisation.</param>
/// <param name="ChannelStandardDeviation">Per-channel standard deviation of the normalisation.</param>
/// <param name="ClassNames">Class names in score order, or null.</param>
/// <param name="ChannelOrder">The normalisation's <see cref="ChannelNormalization.ChannelOrder"/>, or null (kept order).</param>
/// <param name="MeanImage">The normalisation's per-pixel mean image (shaped like <paramref name="ImageShape"/>), or null.
/// Stored in the JSON with the rest of the description: 150,528 floats for ML.NET's ResNet-18, small next to its weights.</param>
/// <param name="NoClassifierHead">True for a backbone whose output is its features (<see cref="ImageClassifier.HasClassifierHead"/> false);
/// null otherwise, so headers written before these fields existed read as they were.</param>
internal sealed record ImageClassifierHeader(
    ResNetArchitecture Architecture, ImageShape ImageShape, float[] ChannelMean, float[] ChannelStandardDeviation, string[]? ClassNames,
    int[]? ChannelOrder = null, float[]? MeanImage = null, bool? NoClassifierHead = null);
