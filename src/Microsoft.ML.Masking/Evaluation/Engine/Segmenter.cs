using Microsoft.ML.Masking.Data;
namespace Microsoft.ML.Masking.Evaluation.Engine;

/// <summary>Cuts each image of a batch into segments as <see cref="SegmentationOptions"/> say.</summary>
internal sealed class Segmenter
{
    private readonly SegmentationOptions _options;
    private readonly ImageShape _shape;
    private readonly SegmentMap? _patches;

    public Segmenter(SegmentationOptions options, ImageShape shape)
    {
        _options = options;
        _shape = shape;
        if (options.Kind == SegmentationKind.Patches)
            _patches = SegmentMap.Patches(shape.Height, shape.Width, options.PatchSize);
    }

    /// <summary>The segments of row <paramref name="row"/> of <paramref name="batch"/>.</summary>
    /// <exception cref="InvalidOperationException">A user segmentation holds an invalid id; the message names the column and row.</exception>
    public SegmentMap Segment(EvaluationBatch batch, int row)
    {
        var g = _shape;
        switch (_options.Kind)
        {
            case SegmentationKind.Patches:
                return _patches!;
            case SegmentationKind.Superpixels:
                return SlicSuperpixels.Segment(batch.Pixels.AsSpan(row * g.Size, g.Size), g.Channels, g.Height, g.Width,
                    _options.SuperpixelCount, _options.Compactness, _options.SuperpixelIterations);
            default:
                try
                {
                    return SegmentMap.FromIds(EvaluationBatch.Row(batch.Segments, row, g.Pixels), g.Height, g.Width);
                }
                catch (ArgumentException e)
                {
                    throw new InvalidOperationException($"Column '{_options.ColumnName}', row {batch.FirstRow + row}: {e.Message}", e);
                }
        }
    }
}
