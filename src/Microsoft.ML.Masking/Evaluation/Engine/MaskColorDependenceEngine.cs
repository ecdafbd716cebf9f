using Microsoft.ML.Masking.Core.Randomness;
using Microsoft.ML.Masking.Core.Segmentation;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.LayerMasking;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Evaluation.Engine;

/// <summary>
/// Mask-colour dependence: one random removal per image (the same draw as the first repeat of a feature-removal
/// curve with the same seed), the removed region painted with each fill, then scored plainly ("painted input")
/// and by each masking method. Every fill of an image shares the same noise draw, so only the colour varies.
/// </summary>
internal sealed class MaskColorDependenceEngine : IEvaluationEngine<MaskColorDependenceResult>
{
    private readonly IMaskedScorer _scorer;
    private readonly ImageShape _shape;
    private readonly IReadOnlyList<MaskFill> _fills;
    private readonly double _fraction;
    private readonly int _seed;
    private readonly ChannelNormalization _normalization;
    private readonly float _maxPixelValue;
    private readonly Segmenter _segmenter;
    private readonly MeanAccumulator _clean = new();
    private readonly Tally[] _tallies; // painted input, then one per method

    private sealed class Tally(MaskingMethod? method, int fills)
    {
        public readonly MaskingMethod? Method = method;
        public readonly MeanAccumulator Agreement = new(), Distinct = new(), Spread = new();
        public readonly MeanAccumulator[] Accuracy = Enumerable.Range(0, fills).Select(_ => new MeanAccumulator()).ToArray();
    }

    public MaskColorDependenceEngine(IMaskedScorer scorer, ImageShape shape, IReadOnlyList<MaskFill> fills, double fraction,
        SegmentationOptions segmentation, int seed, ChannelNormalization normalization, float maxPixelValue)
    {
        _scorer = scorer;
        _shape = shape;
        _fills = fills.ToArray();
        _fraction = fraction;
        _seed = seed;
        _normalization = normalization;
        _maxPixelValue = maxPixelValue;
        _segmenter = new Segmenter(segmentation, shape);
        _tallies = new MaskingMethod?[] { null }.Concat(scorer.Methods.Select(m => (MaskingMethod?)m))
            .Select(method => new Tally(method, _fills.Count)).ToArray();
    }

    public void Add(EvaluationBatch batch)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var g = _shape;
        int count = batch.Count;
        var pixels = batch.PixelTensor(g, _scorer.Device);
        var clean = Predictions.Top1(_scorer.CleanLogits(pixels));
        var keep = new float[count * g.Pixels];
        for (int i = 0; i < count; i++)
        {
            _clean.Add(clean[i] == batch.Labels[i] ? 1 : 0);
            var map = _segmenter.Segment(batch.Pixels.AsSpan(i * g.Size, g.Size), EvaluationBatch.Row(batch.Segments, i, g.Pixels), batch.FirstRow + i);
            using var generator = SeedMixer.TorchGenerator(_seed, SeedStream.RemovalOrder, batch.FirstRow + i, 0);
            var order = RemovalOrdering.Order(map, RemovalOrder.Random, default, generator);
            RemovalOrdering.WriteKeepMask(map, order, _fraction, keep.AsSpan(i * g.Pixels, g.Pixels));
        }
        var keepMask = tensor(keep, [count, 1, g.Height, g.Width]).to(_scorer.Device);

        // probabilities[variant][fill]: [count, classes]
        var probabilities = _tallies.Select(_ => new Tensor[_fills.Count]).ToArray();
        for (int f = 0; f < _fills.Count; f++)
        {
            var painted = _fills[f].Paint(pixels, keepMask, _normalization, _maxPixelValue);
            probabilities[0][f] = _scorer.CleanLogits(painted).softmax(1);
            for (int m = 0; m < _scorer.Methods.Count; m++)
            {
                // Drawn per row, the same for every fill: only the painted colour differs between fills.
                using var noise = _scorer.Methods[m] == MaskingMethod.Noise
                    ? RowNoise.Normal(_seed, SeedStream.Noise, batch.FirstRow, painted.shape, _scorer.Device) : null;
                probabilities[1 + m][f] = _scorer.MaskedLogits(_scorer.Methods[m], painted, keepMask, noise).softmax(1);
            }
        }
        for (int v = 0; v < _tallies.Length; v++)
            Accumulate(_tallies[v], stack(probabilities[v]), batch.Labels);
    }

    // probabilities: [fills, count, classes]
    private static void Accumulate(Tally tally, Tensor probabilities, int[] labels)
    {
        int fills = (int)probabilities.shape[0], count = (int)probabilities.shape[1];
        using var spreadTensor = (probabilities.amax([0]) - probabilities.amin([0])).amax([1]).to(ScalarType.Float64, CPU);
        var spread = spreadTensor.data<double>().ToArray();
        using var predictedTensor = probabilities.argmax(2).to(ScalarType.Int32, CPU);
        var predicted = predictedTensor.data<int>().ToArray(); // [fills, count] row-major
        for (int i = 0; i < count; i++)
        {
            var distinct = new HashSet<int>();
            for (int f = 0; f < fills; f++)
            {
                int p = predicted[f * count + i];
                distinct.Add(p);
                tally.Accuracy[f].Add(p == labels[i] ? 1 : 0);
            }
            tally.Agreement.Add(distinct.Count == 1 ? 1 : 0);
            tally.Distinct.Add(distinct.Count);
            tally.Spread.Add(spread[i]);
        }
    }

    public MaskColorDependenceResult Result()
    {
        var fills = _fills.Select(f => f.Name).ToArray();
        MaskColorSpread Spread(Tally t) => new(t.Method, t.Method?.ToString() ?? MaskColorDependenceResult.PaintedInputName, t.Agreement.Mean, t.Agreement.StandardError, t.Distinct.Mean,
            t.Spread.Mean, t.Spread.StandardError, fills.Select((name, f) => (name, f)).ToDictionary(x => x.name, x => t.Accuracy[x.f].Mean));
        return new MaskColorDependenceResult(fills, _fraction, Spread(_tallies[0]),
            _tallies.Skip(1).Select(Spread).ToArray(),
            _clean.Mean, _clean.Count);
    }
}
