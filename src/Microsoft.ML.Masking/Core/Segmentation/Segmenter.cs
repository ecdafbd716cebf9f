using Microsoft.ML.Masking.Data;

namespace Microsoft.ML.Masking.Core.Segmentation;

/// <summary>
/// Cuts images into segments as <see cref="SegmentationOptions"/> say: one instance per image shape, used by
/// every capability that removes or perturbs segments (evaluation curves, mask transforms, attribution).
/// </summary>
internal sealed class Segmenter
{
    private readonly SegmentationOptions _options;
    private readonly ImageShape _shape;
    private readonly SegmentMap? _patches;

    /// <summary>Checks <paramref name="options"/> against <paramref name="shape"/> and prepares the fixed patch map.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option that does not fit the image; the message names it.</exception>
    public Segmenter(SegmentationOptions options, ImageShape shape)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(shape.Height, shape.Width);
        _options = options;
        _shape = shape;
        if (options.Kind == SegmentationKind.Patches)
            _patches = SegmentMap.Patches(shape.Height, shape.Width, options.PatchSize);
    }

    /// <summary>The options this segmenter follows.</summary>
    public SegmentationOptions Options => _options;

    /// <summary>True when segments come from a per-row column (<see cref="SegmentationKind.Column"/>).</summary>
    public bool NeedsSegmentColumn => _options.Kind == SegmentationKind.Column;

    /// <summary>True when segments are computed from each image's pixels (<see cref="SegmentationKind.Superpixels"/>).</summary>
    public bool NeedsPixels => _options.Kind == SegmentationKind.Superpixels;

    /// <summary>
    /// The segments of one image. <paramref name="pixels"/> (planar C×H×W) is read only for superpixels,
    /// <paramref name="segmentIds"/> (H×W ids) only for a segment column; <paramref name="row"/> names the row in errors.
    /// </summary>
    /// <exception cref="InvalidOperationException">A user segmentation holds an invalid id; the message names the column and row.</exception>
    public SegmentMap Segment(ReadOnlySpan<float> pixels, ReadOnlySpan<float> segmentIds, long row)
    {
        var g = _shape;
        switch (_options.Kind)
        {
            case SegmentationKind.Patches:
                return _patches!;
            case SegmentationKind.Superpixels:
                return SlicSuperpixels.Segment(pixels, g.Channels, g.Height, g.Width,
                    _options.SuperpixelCount, _options.Compactness, _options.SuperpixelIterations);
            default:
                try
                {
                    return SegmentMap.FromIds(segmentIds, g.Height, g.Width);
                }
                catch (ArgumentException e)
                {
                    throw new InvalidOperationException($"Column '{_options.ColumnName}', row {row}: {e.Message}", e);
                }
        }
    }
}
