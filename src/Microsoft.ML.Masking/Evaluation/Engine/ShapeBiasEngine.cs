using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Randomness;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.Data;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Evaluation.Engine;

/// <summary>
/// Mask-shape bias: on images the network gets right, each method scores the image with its object removed and
/// with the object mask rolled by half the image in both axes (same pixel count, broken shape).
/// </summary>
internal sealed class ShapeBiasEngine : IEvaluationEngine<ShapeBiasResult>
{
    private readonly IMaskedScorer _scorer;
    private readonly ImageShape _shape;
    private readonly int _seed;
    private readonly MeanAccumulator _clean = new();
    private readonly MeanAccumulator _objectFraction = new();
    private readonly MeanAccumulator[] _objectRemoved, _brokenShape;
    private long _withoutObject;

    public ShapeBiasEngine(IMaskedScorer scorer, ImageShape shape, int seed)
    {
        _scorer = scorer;
        _shape = shape;
        _seed = seed;
        _objectRemoved = scorer.Methods.Select(_ => new MeanAccumulator()).ToArray();
        _brokenShape = scorer.Methods.Select(_ => new MeanAccumulator()).ToArray();
    }

    public void Add(EvaluationBatch batch)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var g = _shape;
        var objects = batch.ObjectMasks ?? throw new InvalidOperationException("Shape bias needs the object masks.");
        var pixels = batch.PixelTensor(g, _scorer.Device);
        var clean = Predictions.Top1(_scorer.CleanLogits(pixels));
        var evaluated = new List<long>();
        for (int i = 0; i < batch.Count; i++)
        {
            bool right = clean[i] == batch.Labels[i];
            _clean.Add(right ? 1 : 0);
            double area = 0;
            foreach (float v in EvaluationBatch.Row(objects, i, g.Pixels))
                area += v;
            if (area == 0)
                _withoutObject++;
            else if (right)
            {
                evaluated.Add(i);
                _objectFraction.Add(area / g.Pixels);
            }
        }
        if (evaluated.Count == 0)
            return;

        var rows = tensor(evaluated.ToArray(), device: _scorer.Device);
        var images = pixels.index_select(0, rows);
        var objectMask = tensor(objects, [batch.Count, g.Height, g.Width]).to(_scorer.Device).index_select(0, rows);
        var objectRemoved = objectMask.OneMinus();
        var brokenRemoved = objectMask.roll([g.Height / 2, g.Width / 2], [1, 2]).OneMinus();
        var labels = evaluated.Select(i => batch.Labels[i]).ToArray();
        var rowIds = evaluated.Select(i => batch.FirstRow + i).ToArray();
        for (int m = 0; m < _scorer.Methods.Count; m++)
        {
            Score(m, images, objectRemoved, labels, _objectRemoved[m], rowIds, 0);
            Score(m, images, brokenRemoved, labels, _brokenShape[m], rowIds, 1);
        }
    }

    /// <summary>Scores one method on the evaluated images with <paramref name="keep"/>; <paramref name="rowIds"/> are their
    /// positions in the data view, from which (with <paramref name="variant"/>) the noise baseline draws.</summary>
    private void Score(int method, Tensor images, Tensor keep, int[] labels, MeanAccumulator accuracy, long[] rowIds, long variant)
    {
        using var noise = _scorer.Methods[method] == MaskingMethod.Noise
            ? RowNoise.Normal(_seed, SeedStream.Noise, rowIds.Length, i => (rowIds[i], variant, 0), images.shape.AsSpan(1), _scorer.Device) : null;
        var predicted = Predictions.Top1(_scorer.MaskedLogits(_scorer.Methods[method], images, keep, noise));
        for (int i = 0; i < labels.Length; i++)
            accuracy.Add(predicted[i] == labels[i] ? 1 : 0);
    }

    public ShapeBiasResult Result() => new(
        _scorer.Methods.Select((method, m) => new ShapeBiasMetrics(method,
            _objectRemoved[m].Mean, _objectRemoved[m].StandardError, _brokenShape[m].Mean, _brokenShape[m].StandardError)).ToArray(),
        _clean.Mean, _clean.Count, _objectFraction.Count, _withoutObject, _objectFraction.Mean);
}
