using Microsoft.ML.Masking.Data;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Training.Engine;

/// <summary>A data set held as tensors: images [N, C, H, W] (float, as read) and labels [N] (int64, 0-based), on the CPU.</summary>
internal sealed class LabeledImages : IDisposable
{
    public LabeledImages(Tensor images, Tensor labels, ImageShape shape, int classCount, IReadOnlyList<string>? classNames, string contentHash)
    {
        Images = images;
        Labels = labels;
        Shape = shape;
        ClassCount = classCount;
        ClassNames = classNames;
        ContentHash = contentHash;
    }

    public Tensor Images { get; }

    public Tensor Labels { get; }

    public ImageShape Shape { get; }

    public int ClassCount { get; }

    /// <summary>The label column's key values, or null when it has none.</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    /// <summary>SHA-256 of the pixels and labels, so a checkpoint is resumed only on the data it was trained on.</summary>
    public string ContentHash { get; }

    public int Count => (int)Labels.shape[0];

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
