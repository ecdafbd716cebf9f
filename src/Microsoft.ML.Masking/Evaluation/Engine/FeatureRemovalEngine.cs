using Microsoft.ML.Masking.Core.Randomness;
using Microsoft.ML.Masking.Core.Segmentation;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.LayerMasking;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Evaluation.Engine;

/// <summary>
/// Feature-removal curves. For each image and repeat one removal order is drawn; at each fraction the keep-mask is
/// built once and every masking method scores the same mask (paired comparison), and removal is nested across
/// fractions.
/// </summary>
internal sealed class FeatureRemovalEngine : IEvaluationEngine<FeatureRemovalResult>
{
    private readonly IMaskedScorer _scorer;
    private readonly ImageShape _shape;
    private readonly int _classCount;
    private readonly IReadOnlyList<double> _fractions;
    private readonly RemovalOrder _order;
    private readonly int _repeats;
    private readonly int _seed;
    private readonly Segmenter _segmenter;
    private readonly MeanAccumulator _clean = new();
    private readonly MeanAccumulator _segmentCount = new();
    private readonly MeanAccumulator[] _pixelsRemoved;
    private readonly MeanAccumulator[,] _accuracy, _unchanged;
    private readonly ClassHistogram[,] _predicted;

    public FeatureRemovalEngine(IMaskedScorer scorer, ImageShape shape, int classCount, IReadOnlyList<double> fractions,
        SegmentationOptions segmentation, RemovalOrder order, int repeats, int seed)
    {
        _scorer = scorer;
        _shape = shape;
        _classCount = classCount;
        _fractions = fractions.ToArray();
        _order = order;
        _repeats = repeats;
        _seed = seed;
        _segmenter = new Segmenter(segmentation, shape);
        int methods = scorer.Methods.Count, points = _fractions.Count;
        _pixelsRemoved = Enumerable.Range(0, points).Select(_ => new MeanAccumulator()).ToArray();
        _accuracy = new MeanAccumulator[methods, points];
        _unchanged = new MeanAccumulator[methods, points];
        _predicted = new ClassHistogram[methods, points];
        for (int m = 0; m < methods; m++)
            for (int f = 0; f < points; f++)
            {
                _accuracy[m, f] = new MeanAccumulator();
                _unchanged[m, f] = new MeanAccumulator();
                _predicted[m, f] = new ClassHistogram(classCount);
            }
    }

    public void Add(EvaluationBatch batch)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var g = _shape;
        int count = batch.Count, methods = _scorer.Methods.Count, points = _fractions.Count;
        var pixels = batch.PixelTensor(g, _scorer.Device);
        var clean = Predictions.Top1(_scorer.CleanLogits(pixels));
        var maps = new SegmentMap[count];
        for (int i = 0; i < count; i++)
        {
            maps[i] = _segmenter.Segment(batch.Pixels.AsSpan(i * g.Size, g.Size), EvaluationBatch.Row(batch.Segments, i, g.Pixels), batch.FirstRow + i);
            _segmentCount.Add(maps[i].SegmentCount);
            _clean.Add(clean[i] == batch.Labels[i] ? 1 : 0);
        }

        var correct = new int[methods, points, count];
        var unchanged = new int[methods, points, count];
        var keep = new float[count * g.Pixels];
        for (int repeat = 0; repeat < _repeats; repeat++)
        {
            var orders = new int[count][];
            for (int i = 0; i < count; i++)
            {
                using var generator = SeedMixer.TorchGenerator(_seed, SeedStream.RemovalOrder, batch.FirstRow + i, repeat);
                orders[i] = RemovalOrdering.Order(maps[i], _order, EvaluationBatch.Row(batch.Attributions, i, g.Pixels), generator);
            }
            for (int f = 0; f < points; f++)
            {
                for (int i = 0; i < count; i++)
                    _pixelsRemoved[f].Add(RemovalOrdering.WriteKeepMask(maps[i], orders[i], _fractions[f], keep.AsSpan(i * g.Pixels, g.Pixels)));
                using var fractionScope = NewDisposeScope();
                var keepMask = tensor(keep, [count, g.Height, g.Width]).to(_scorer.Device);
                for (int m = 0; m < methods; m++)
                {
                    // Drawn per row (row, repeat, fraction), so a row's noise does not depend on its batch.
                    using var noise = _scorer.Methods[m] == MaskingMethod.Noise
                        ? RowNoise.Normal(_seed, SeedStream.Noise, batch.FirstRow, pixels.shape, _scorer.Device, repeat, f) : null;
                    var predicted = Predictions.Top1(_scorer.MaskedLogits(_scorer.Methods[m], pixels, keepMask, noise));
                    for (int i = 0; i < count; i++)
                    {
                        if (predicted[i] == batch.Labels[i]) correct[m, f, i]++;
                        if (predicted[i] == clean[i]) unchanged[m, f, i]++;
                        _predicted[m, f].Add(predicted[i]);
                    }
                }
            }
        }
        for (int m = 0; m < methods; m++)
            for (int f = 0; f < points; f++)
                for (int i = 0; i < count; i++)
                {
                    _accuracy[m, f].Add(correct[m, f, i] / (double)_repeats);
                    _unchanged[m, f].Add(unchanged[m, f, i] / (double)_repeats);
                }
    }

    public FeatureRemovalResult Result()
    {
        var curves = _scorer.Methods.Select((method, m) => new FeatureRemovalCurve(method,
            _fractions.Select((fraction, f) => new FeatureRemovalPoint(fraction, _pixelsRemoved[f].Mean,
                _accuracy[m, f].Mean, _accuracy[m, f].StandardError, _unchanged[m, f].Mean, _unchanged[m, f].StandardError,
                _predicted[m, f].Entropy())).ToArray())).ToArray();
        return new FeatureRemovalResult(_fractions, curves, _clean.Mean, _clean.Count, _repeats, _classCount, _segmentCount.Mean);
    }
}
