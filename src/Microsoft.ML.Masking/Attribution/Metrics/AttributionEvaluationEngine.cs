using Microsoft.ML.Masking.Attribution.Engine;
using Microsoft.ML.Masking.Core.Segmentation;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Evaluation;
using Microsoft.ML.Masking.Evaluation.Engine;
using Microsoft.ML.Masking.LayerMasking;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution.Metrics;

/// <summary>
/// Accumulates the attribution metrics batch by batch. Each row's removal orders come from its attribution with ties
/// in an order drawn from (seed, row), so every removal method removes the same pixels (a paired comparison) and the
/// results do not depend on the batch size. All points of a batch (rows × curves × fractions) are scored in passes
/// of the batch size.
/// </summary>
internal sealed class AttributionEvaluationEngine : IDisposable
{
    private static readonly AttributionCurveKind[] Kinds = Enum.GetValues<AttributionCurveKind>();
    private readonly AttributionEvaluationOptions _options;
    private readonly ImageShape _shape;
    private readonly TorchClassifier _classifier;
    private readonly (string Name, IPerturbationScorer Scorer)[] _scorers;
    private readonly Segmenter _segmenter, _topKSegmenter;
    private readonly MetricAccumulator _clean = new(), _pointing = new(), _mass = new(), _rank = new(), _completeness = new();
    private readonly MetricAccumulator[,,] _curves;
    private readonly MetricAccumulator[,] _areas, _topK;

    public AttributionEvaluationEngine(AttributionEvaluationOptions options, ImageShape shape, Device device)
    {
        _options = options;
        _shape = shape;
        var classifier = options.ClassifierInEffect;
        var network = classifier.Network;
        int classes = classifier.ClassCount;
        _classifier = new TorchClassifier(network, classifier.Normalization, device);
        var scorers = options.Removals.Select(m => (m.ToString(), (IPerturbationScorer)new MaskedNetworkScorer(network, classes, m, classifier.Normalization, ScoreKind.Probability, device: device))).ToList();
        if (options.Road)
            scorers.Add(("Road", new RoadScorer(_classifier, classes)));
        _scorers = scorers.ToArray();
        _segmenter = new Segmenter(options.Segmentation, shape);
        _topKSegmenter = new Segmenter(options.TopKSegmentation, shape);
        int f = options.Fractions.Count;
        _curves = new MetricAccumulator[_scorers.Length, Kinds.Length, f];
        _areas = new MetricAccumulator[_scorers.Length, Kinds.Length];
        _topK = new MetricAccumulator[_scorers.Length, options.TopK.Count];
        for (int s = 0; s < _scorers.Length; s++)
        {
            for (int k = 0; k < Kinds.Length; k++)
            {
                _areas[s, k] = new MetricAccumulator();
                for (int j = 0; j < f; j++) _curves[s, k, j] = new MetricAccumulator();
            }
            for (int k = 0; k < options.TopK.Count; k++) _topK[s, k] = new MetricAccumulator();
        }
    }

    public void Add(EvaluationBatch batch)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var g = _shape;
        int n = batch.Count, pixels = g.Pixels, fractions = _options.Fractions.Count;
        var images = batch.PixelTensor(g, _classifier.Device);
        var logits = _classifier.Scores(images, ScoreKind.Logit);
        var targets = logits.argmax(1).cpu().data<long>().ToArray();
        var rowIds = Enumerable.Range(0, n).Select(i => batch.FirstRow + i).ToArray();
        var work = new AttributionBatch(images, targets, rowIds);
        for (int i = 0; i < n; i++)
            _clean.Add(targets[i] == batch.Labels[i] ? 1 : 0);

        var maps = new SegmentMap[n];
        var topKMaps = new SegmentMap[n];
        var orders = new int[n][][];
        var topKOrders = new int[n][];
        for (int i = 0; i < n; i++)
        {
            var relevance = EvaluationBatch.Row(batch.Attributions, i, pixels);
            var image = batch.Pixels.AsSpan(i * g.Size, g.Size);
            maps[i] = _segmenter.Segment(image, default, rowIds[i]);
            topKMaps[i] = _topKSegmenter.Segment(image, default, rowIds[i]);
            using var generator = AttributionSeeds.For(_options.Seed, AttributionSeeds.Evaluation, rowIds[i]);
            var morf = RemovalOrdering.Order(maps[i], RemovalOrder.MostRelevantFirst, relevance, generator);
            var lerf = RemovalOrdering.Order(maps[i], RemovalOrder.LeastRelevantFirst, relevance, generator);
            orders[i] = [morf, lerf, morf];
            topKOrders[i] = RemovalOrdering.Order(topKMaps[i], RemovalOrder.MostRelevantFirst, relevance, generator);
            if (batch.ObjectMasks is not null)
            {
                var mask = EvaluationBatch.Row(batch.ObjectMasks, i, pixels);
                _pointing.Add(LocalizationMetrics.PointingGame(relevance, mask));
                _mass.Add(LocalizationMetrics.RelevanceMass(relevance, mask));
                _rank.Add(LocalizationMetrics.RelevanceRank(relevance, mask));
            }
        }
        if (_options.CompletenessBaseline is { } baseline)
            AddCompleteness(batch, images, targets, baseline);

        int perRow = Kinds.Length * fractions;
        int topK = _options.TopK.Count;
        for (int s = 0; s < _scorers.Length; s++)
        {
            var scores = PerturbationScoring.Score(_scorers[s].Scorer, work, n * perRow, p => p / perRow, (p, keep) =>
            {
                int row = p / perRow, kind = p % perRow / fractions, fraction = p % fractions;
                RemovalOrdering.WriteKeepMask(maps[row], orders[row][kind], _options.Fractions[fraction], keep);
                if (Kinds[kind] == AttributionCurveKind.InsertionMostRelevantFirst)
                    for (int q = 0; q < keep.Length; q++) keep[q] = 1 - keep[q];
            }, _options.BatchSize, _options.Seed);
            for (int i = 0; i < n; i++)
                for (int k = 0; k < Kinds.Length; k++)
                {
                    var curve = scores.AsSpan(i * perRow + k * fractions, fractions);
                    for (int j = 0; j < fractions; j++) _curves[s, k, j].Add(curve[j]);
                    _areas[s, k].Add(Area(_options.Fractions, curve));
                }
            var predicted = PerturbationScoring.Predict(_scorers[s].Scorer, work, n * topK, p => p / topK, (p, keep) =>
            {
                int row = p / topK;
                var map = topKMaps[row];
                var removed = new bool[map.SegmentCount];
                for (int r = 0; r < Math.Min(_options.TopK[p % topK], map.SegmentCount); r++) removed[topKOrders[row][r]] = true;
                map.WriteKeepMask(removed, keep);
            }, _options.BatchSize, _options.Seed);
            for (int p = 0; p < predicted.Length; p++)
                _topK[s, p % topK].Add(predicted[p] == batch.Labels[p / topK] ? 1 : 0);
        }
    }

    private void AddCompleteness(EvaluationBatch batch, Tensor images, long[] targets, AttributionBaseline baseline)
    {
        var target = tensor(targets, device: _classifier.Device);
        var start = baseline switch
        {
            AttributionBaseline.Black => zeros_like(images),
            AttributionBaseline.Mean => _classifier.Normalization.MeanPixels(images.device).expand_as(images).contiguous(),
            _ => throw new ArgumentException("Completeness needs a deterministic baseline (Black or Mean).", nameof(AttributionEvaluationOptions.CompletenessBaseline)),
        };
        var gap = _classifier.TargetScores(images, target, ScoreKind.Logit).sub(_classifier.TargetScores(start, target, ScoreKind.Logit)).cpu().data<float>().ToArray();
        for (int i = 0; i < batch.Count; i++)
        {
            double sum = 0;
            foreach (float v in EvaluationBatch.Row(batch.Attributions, i, _shape.Pixels)) sum += v;
            _completeness.Add(Math.Abs(gap[i]) > 1e-12 ? Math.Abs(sum - gap[i]) / Math.Abs(gap[i]) : double.NaN);
        }
    }

    /// <summary>Trapezoid area under (fractions, scores), divided by the fractions' span.</summary>
    internal static double Area(IReadOnlyList<double> fractions, ReadOnlySpan<double> scores)
    {
        double area = 0;
        for (int j = 0; j + 1 < fractions.Count; j++)
            area += (fractions[j + 1] - fractions[j]) * (scores[j] + scores[j + 1]) / 2;
        return area / (fractions[^1] - fractions[0]);
    }

    public AttributionEvaluationResult Result()
    {
        var faithfulness = _scorers.Select((s, si) => new FaithfulnessResult(s.Name,
            Kinds.Select((kind, k) => new AttributionCurve(kind, s.Name, _options.Fractions,
                Enumerable.Range(0, _options.Fractions.Count).Select(j => _curves[si, k, j].Mean).ToArray(),
                Enumerable.Range(0, _options.Fractions.Count).Select(j => _curves[si, k, j].StandardError).ToArray(),
                MetricValue.From(_areas[si, k]))).ToArray(),
            _options.TopK.Select((k, ki) => (k, ki)).ToDictionary(p => p.k, p => MetricValue.From(_topK[si, p.ki])))).ToArray();
        bool localized = _options.ObjectMaskColumnName is not null;
        return new AttributionEvaluationResult(_clean.Count, _clean.Mean, faithfulness,
            localized ? MetricValue.From(_pointing) : null, localized ? MetricValue.From(_mass) : null, localized ? MetricValue.From(_rank) : null,
            _options.CompletenessBaseline is null ? null : MetricValue.From(_completeness));
    }

    public void Dispose()
    {
        foreach (var (_, scorer) in _scorers)
            (scorer as IDisposable)?.Dispose();
    }
}
