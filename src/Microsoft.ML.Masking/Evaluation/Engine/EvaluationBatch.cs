using Microsoft.ML.Masking.Data;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Evaluation.Engine;

/// <summary>
/// Consecutive rows read for an evaluator. Arrays hold <see cref="Count"/> rows back to back; optional columns
/// are null when the evaluation does not use them.
/// </summary>
/// <param name="FirstRow">Position of the first row in the data view (seeds draws per row).</param>
/// <param name="Count">Rows in the batch.</param>
/// <param name="Pixels">Planar images, channels × height × width each, in pixel space.</param>
/// <param name="Labels">Zero-based class of each row.</param>
/// <param name="Segments">Segment ids, height × width per row.</param>
/// <param name="Attributions">Per-pixel relevance, height × width per row.</param>
/// <param name="ObjectMasks">Ground-truth object masks (1 on the object), height × width per row.</param>
internal sealed record EvaluationBatch(long FirstRow, int Count, float[] Pixels, int[] Labels,
    float[]? Segments = null, float[]? Attributions = null, float[]? ObjectMasks = null)
{
    /// <summary>The images as a [Count, C, H, W] tensor on <paramref name="device"/>.</summary>
    public Tensor PixelTensor(ImageShape shape, Device device) =>
        tensor(Pixels, [Count, shape.Channels, shape.Height, shape.Width]).to(device);

    /// <summary>The span of row <paramref name="row"/> in a per-pixel array (segments, attributions, object masks).</summary>
    public static ReadOnlySpan<float> Row(float[]? values, int row, int pixels) =>
        values is null ? default : values.AsSpan(row * pixels, pixels);
}
