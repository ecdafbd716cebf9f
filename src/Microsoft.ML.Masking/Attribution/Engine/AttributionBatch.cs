using Microsoft.ML.Masking.Core.Segmentation;
using Microsoft.ML.Masking.Evaluation.Engine;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// The one calling shape of every attribution method, as Captum's <c>attribute(inputs, baselines, target, …)</c>:
/// a batch of images, the class each row is explained for, and what each method may additionally use (baselines,
/// segments). The method's own options live on the method object.
/// </summary>
public sealed class AttributionBatch
{
    /// <summary>Describes a batch.</summary>
    /// <param name="pixels">[rows, channels, height, width] in pixel space (before the network's normalisation).</param>
    /// <param name="targets">The class explained for each row (0-based).</param>
    /// <param name="rowIds">A stable id per row (its position in the data): the seed of every random draw for that row, so
    /// results do not depend on how rows are grouped into batches.</param>
    /// <param name="segments">One segmentation per row, for the methods that remove segments (LIME, KernelSHAP, ablation); else null.</param>
    /// <param name="keep">For the gradient methods of a layer-masked <see cref="TorchClassifier"/>: a keep-mask per row,
    /// [rows, height, width] (1 kept, 0 removed); gradients are then taken through the layer-masked network. Else null.</param>
    public AttributionBatch(Tensor pixels, IReadOnlyList<long> targets, IReadOnlyList<long> rowIds, IReadOnlyList<SegmentMap>? segments = null, Tensor? keep = null)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(rowIds);
        if (pixels.dim() != 4)
            throw new ArgumentException($"Pixels must be [rows, channels, height, width]; got [{string.Join(", ", pixels.shape)}].", nameof(pixels));
        int rows = (int)pixels.shape[0];
        if (targets.Count != rows || rowIds.Count != rows)
            throw new ArgumentException($"The batch has {rows} rows but {targets.Count} targets and {rowIds.Count} row ids.");
        if (segments is not null && segments.Count != rows)
            throw new ArgumentException($"The batch has {rows} rows but {segments.Count} segmentations.", nameof(segments));
        if (segments is not null && segments.Any(s => s.Height != pixels.shape[2] || s.Width != pixels.shape[3]))
            throw new ArgumentException($"Every segmentation must cover the {pixels.shape[2]}×{pixels.shape[3]} image.", nameof(segments));
        if (keep is not null && (keep.dim() != 3 || keep.shape[0] != rows || keep.shape[1] != pixels.shape[2] || keep.shape[2] != pixels.shape[3]))
            throw new ArgumentException($"The keep-mask must be [rows, height, width] = [{rows}, {pixels.shape[2]}, {pixels.shape[3]}]; got [{string.Join(", ", keep.shape)}].", nameof(keep));
        Pixels = pixels;
        Keep = keep;
        Targets = targets.ToArray();
        RowIds = rowIds.ToArray();
        Segments = segments?.ToArray();
    }

    /// <summary>[rows, channels, height, width] in pixel space.</summary>
    public Tensor Pixels { get; }

    /// <summary>A keep-mask per row [rows, H, W] for gradients through a layer-masked network, or null.</summary>
    public Tensor? Keep { get; }

    /// <summary>The class explained for each row.</summary>
    public IReadOnlyList<long> Targets { get; }

    /// <summary>The stable id of each row (seeds its random draws).</summary>
    public IReadOnlyList<long> RowIds { get; }

    /// <summary>One segmentation per row, or null.</summary>
    public IReadOnlyList<SegmentMap>? Segments { get; }

    /// <summary>Number of rows.</summary>
    public int Count => Targets.Count;

    /// <summary>Channels, height and width of the images.</summary>
    public (int Channels, int Height, int Width) ImageSize => ((int)Pixels.shape[1], (int)Pixels.shape[2], (int)Pixels.shape[3]);

    /// <summary>The targets as an int64 tensor on <paramref name="device"/>.</summary>
    internal Tensor TargetTensor(Device device) => tensor(Targets.ToArray(), device: device);

    /// <summary>The segmentations, or an error naming the method that needs them.</summary>
    internal IReadOnlyList<SegmentMap> RequireSegments(string method) =>
        Segments ?? throw new InvalidOperationException($"{method} removes segments; give the batch one segmentation per row.");
}
