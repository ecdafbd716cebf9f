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
internal sealed record ImageClassifierHeader(
    ResNetArchitecture Architecture, ImageShape ImageShape, float[] ChannelMean, float[] ChannelStandardDeviation, string[]? ClassNames);
