using Microsoft.ML.Masking.Attribution.Engine;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Randomness;
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
    private readonly (MetricAccumulator C, MetricAccumulator Kept, MetricAccumulator Gap)[] _consistency;
    private readonly MetricAccumulator[] _correlation, _linearity;
    private readonly IPerturbationScorer[]? _logitScorers;
    private readonly MaskedClassifierScorer _maskedClassifiers;
    private readonly MetricAccumulator _infidelity = new();

    public AttributionEvaluationEngine(AttributionEvaluationOptions options, ImageShape shape, Device device)
    {
        _options = options;
        _shape = shape;
        var classifier = options.ClassifierInEffect;
        var network = classifier.Network;
        int classes = classifier.ClassCount;
        _classifier = new TorchClassifier(classifier, device);
        // One classifier per removal method, shared by the probability and the logit scorers.
        _maskedClassifiers = new MaskedClassifierScorer(network, options.Removals, classifier.Normalization, 4.0, device);
        _scorers = Scorers(options, classes, ScoreKind.Probability, device);
        // Faithfulness correlation reads logits, as Quantus does (softmax = False); so does linearity of removal, where
        // the softmax would bend even a linear model.
        _logitScorers = options.FaithfulnessCorrelationRuns > 0 || options.LinearitySamples > 0 ? Scorers(options, classes, ScoreKind.Logit, device).Select(s => s.Scorer).ToArray() : null;
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
        _consistency = _scorers.Select(_ => (new MetricAccumulator(), new MetricAccumulator(), new MetricAccumulator())).ToArray();
        _correlation = _scorers.Select(_ => new MetricAccumulator()).ToArray();
        _linearity = _scorers.Select(_ => new MetricAccumulator()).ToArray();
    }

    private (string Name, IPerturbationScorer Scorer)[] Scorers(AttributionEvaluationOptions options, int classes, ScoreKind kind, Device device)
    {
        var scorers = options.Removals.Select(m => (m.ToString(), (IPerturbationScorer)new MaskedNetworkScorer(_maskedClassifiers, m, classes, kind))).ToList();
        if (options.Road)
            scorers.Add(("Road", new RoadScorer(_classifier.Description, kind, device: device)));
        return scorers.ToArray();
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
        int classes = _scorers[0].Scorer.ClassCount;
        var clean = logits.softmax(1).to(ScalarType.Float32).cpu().data<float>().ToArray();
        var keptPixels = new int[n * perRow];
        int insertion = Array.IndexOf(Kinds, AttributionCurveKind.InsertionMostRelevantFirst);
        for (int s = 0; s < _scorers.Length; s++)
        {
            var vectors = PerturbationScoring.Vectors(_scorers[s].Scorer, work, n * perRow, p => p / perRow, (p, keep) =>
            {
                int row = p / perRow, kind = p % perRow / fractions, fraction = p % fractions;
                RemovalOrdering.WriteKeepMask(maps[row], orders[row][kind], _options.Fractions[fraction], keep);
                if (kind == insertion)
                    for (int q = 0; q < keep.Length; q++) keep[q] = 1 - keep[q];
                int kept = 0;
                foreach (float v in keep) if (v != 0) kept++;
                keptPixels[p] = kept;
            }, _options.BatchSize, _options.Seed);
            var curve = new double[fractions];
            for (int i = 0; i < n; i++)
            {
                for (int k = 0; k < Kinds.Length; k++)
                {
                    for (int j = 0; j < fractions; j++) curve[j] = vectors[(i * perRow + k * fractions + j) * classes + targets[i]];
                    for (int j = 0; j < fractions; j++) _curves[s, k, j].Add(curve[j]);
                    _areas[s, k].Add(Area(_options.Fractions, curve));
                }
                AddConsistency(s, vectors.AsSpan(i * perRow * classes, perRow * classes), keptPixels.AsSpan(i * perRow, perRow),
                    clean.AsSpan(i * classes, classes), targets[i], insertion * fractions, classes);
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
            if (_options.FaithfulnessCorrelationRuns > 0)
                AddFaithfulnessCorrelation(s, work, batch, logits, targets);
            if (_options.LinearitySamples > 0)
                AddLinearity(s, work, topKMaps, targets);
        }
        if (_options.InfidelitySamples > 0)
            AddInfidelity(batch, images, targets);
    }

    /// <summary>
    /// C(E) of one row: the first point of the insertion curve that keeps some pixels and the whole image's predicted
    /// class; rows whose prediction no point keeps are skipped (counted by the accumulators' Skipped).
    /// </summary>
    private void AddConsistency(int s, ReadOnlySpan<float> vectors, ReadOnlySpan<int> keptPixels, ReadOnlySpan<float> clean, long target, int firstPoint, int classes)
    {
        var (c, keptShare, gap) = _consistency[s];
        for (int j = 0; j < _options.Fractions.Count; j++)
        {
            int point = firstPoint + j;
            if (keptPixels[point] == 0)
                continue;
            var scores = vectors.Slice(point * classes, classes);
            int predicted = 0;
            for (int k = 1; k < classes; k++) if (scores[k] > scores[predicted]) predicted = k;
            if (predicted != target)
                continue;
            double distance = 0;
            for (int k = 0; k < classes; k++) distance += Math.Abs(scores[k] - clean[k]);
            double share = keptPixels[point] / (double)_shape.Pixels;
            c.Add(1 / (Math.Max(distance, ConsistencyResult.GapFloor) * share));
            keptShare.Add(share);
            gap.Add(distance);
            return;
        }
        c.Add(double.NaN);
        keptShare.Add(double.NaN);
        gap.Add(double.NaN);
    }

    /// <summary>Faithfulness correlation of every row under removal <paramref name="s"/>: all rows × runs are scored in passes of the batch size.</summary>
    private void AddFaithfulnessCorrelation(int s, AttributionBatch work, EvaluationBatch batch, Tensor logits, long[] targets)
    {
        int n = batch.Count, runs = _options.FaithfulnessCorrelationRuns, size = _options.FaithfulnessCorrelationSubsetSize, pixels = _shape.Pixels;
        var subsets = new int[n][][];
        for (int i = 0; i < n; i++)
        {
            subsets[i] = new int[runs][];
            for (int r = 0; r < runs; r++)
            {
                var random = SeedMixer.Random(_options.Seed, AttributionSeeds.FaithfulnessCorrelation, work.RowIds[i], r);
                subsets[i][r] = random.Permutation(pixels)[..size];
            }
        }
        var perturbed = PerturbationScoring.Score(_logitScorers![s], work, n * runs, p => p / runs, (p, keep) =>
        {
            keep.Fill(1f);
            foreach (int q in subsets[p / runs][p % runs]) keep[q] = 0f;
        }, _options.BatchSize, _options.Seed);
        var cleanTarget = logits.gather(1, tensor(targets, device: logits.device).unsqueeze(1)).squeeze(1).to(ScalarType.Float64).cpu().data<double>().ToArray();
        var sums = new double[runs];
        var drops = new double[runs];
        for (int i = 0; i < n; i++)
        {
            var relevance = EvaluationBatch.Row(batch.Attributions, i, pixels);
            for (int r = 0; r < runs; r++)
            {
                double sum = 0;
                foreach (int q in subsets[i][r]) sum += relevance[q];
                sums[r] = sum;
                drops[r] = cleanTarget[i] - perturbed[i * runs + r];
            }
            _correlation[s].Add(RankCorrelation.Pearson(sums, drops));
        }
    }

    /// <summary>
    /// Linearity of removal under removal <paramref name="s"/>: random on/off patterns of each row's segments (the same
    /// for every removal method), a least-squares fit of the target's logit on the first three quarters, R² on the rest.
    /// </summary>
    private void AddLinearity(int s, AttributionBatch work, SegmentMap[] maps, long[] targets)
    {
        int n = work.Count, samples = _options.LinearitySamples, train = samples - samples / 4;
        var patterns = new bool[n][,];
        for (int i = 0; i < n; i++)
        {
            var random = SeedMixer.Random(_options.Seed, AttributionSeeds.RemovalLinearity, work.RowIds[i]);
            patterns[i] = new bool[samples, maps[i].SegmentCount];
            for (int k = 0; k < samples; k++)
                for (int j = 0; j < maps[i].SegmentCount; j++)
                    patterns[i][k, j] = random.NextDouble() < 0.5;
        }
        var scores = PerturbationScoring.Score(_logitScorers![s], work, n * samples, p => p / samples, (p, keep) =>
        {
            var map = maps[p / samples];
            var removed = new bool[map.SegmentCount];
            for (int j = 0; j < removed.Length; j++) removed[j] = !patterns[p / samples][p % samples, j];
            map.WriteKeepMask(removed, keep);
        }, _options.BatchSize, _options.Seed);
        for (int i = 0; i < n; i++)
        {
            int d = maps[i].SegmentCount;
            var x = new double[train, d];
            var y = new double[train];
            for (int k = 0; k < train; k++)
            {
                for (int j = 0; j < d; j++) x[k, j] = patterns[i][k, j] ? 1 : 0;
                y[k] = scores[i * samples + k];
            }
            var fit = WeightedLinearFit.Fit(x, y, Enumerable.Repeat(1.0, train).ToArray(), SurrogateKind.Ridge, 0);
            double mean = 0;
            for (int k = train; k < samples; k++) mean += scores[i * samples + k];
            mean /= samples - train;
            double residual = 0, total = 0;
            for (int k = train; k < samples; k++)
            {
                double prediction = fit.Intercept;
                for (int j = 0; j < d; j++) if (patterns[i][k, j]) prediction += fit.Coefficients[j];
                double actual = scores[i * samples + k];
                residual += (actual - prediction) * (actual - prediction);
                total += (actual - mean) * (actual - mean);
            }
            _linearity[s].Add(total > 0 ? 1 - residual / total : double.NaN);
        }
    }

    /// <summary>
    /// Infidelity of every row: rows × samples perturbed images x − I, I ~ N(0, σ²) drawn per (row, sample), scored on
    /// the plain network in passes of the batch size.
    /// </summary>
    private void AddInfidelity(EvaluationBatch batch, Tensor images, long[] targets)
    {
        int n = batch.Count, samples = _options.InfidelitySamples, pixels = _shape.Pixels, c = _shape.Channels;
        var device = _classifier.Device;
        var target = tensor(targets, device: device);
        var clean = _classifier.TargetScores(images, target, ScoreKind.Logit).to(ScalarType.Float64).cpu().data<double>().ToArray();
        var attribution = tensor(batch.Attributions!, [n, 1, _shape.Height, _shape.Width]).to(ScalarType.Float64);
        var explained = new double[n * samples];
        var drops = new double[n * samples];
        for (int first = 0; first < n * samples; first += _options.BatchSize)
        {
            int length = Math.Min(_options.BatchSize, n * samples - first);
            using var scope = NewDisposeScope();
            var noise = new Tensor[length];
            var rows = new long[length];
            for (int j = 0; j < length; j++)
            {
                int p = first + j;
                rows[j] = p / samples;
                using var generator = AttributionSeeds.For(_options.Seed, AttributionSeeds.Infidelity, batch.FirstRow + p / samples, p % samples);
                noise[j] = randn(new long[] { 1, c, _shape.Height, _shape.Width }, generator: generator).Times(_options.InfidelityNoise);
            }
            var perturbation = cat(noise, 0);
            var index = tensor(rows);
            var perturbed = images.index_select(0, index.to(device)).sub(perturbation.to(device));
            var scores = _classifier.TargetScores(perturbed, target.index_select(0, index.to(device)), ScoreKind.Logit).to(ScalarType.Float64).cpu().data<double>().ToArray();
            var dot = perturbation.to(ScalarType.Float64).sum(1, keepdim: true).mul(attribution.index_select(0, index)).sum([1, 2, 3]).data<double>().ToArray();
            for (int j = 0; j < length; j++)
            {
                explained[first + j] = dot[j];
                drops[first + j] = clean[rows[j]] - scores[j];
            }
        }
        for (int i = 0; i < n; i++)
        {
            var a = explained.AsSpan(i * samples, samples);
            var b = drops.AsSpan(i * samples, samples);
            double beta = 1;
            if (_options.InfidelityNormalize)
            {
                double ab = 0, aa = 0;
                for (int k = 0; k < samples; k++) { ab += a[k] * b[k]; aa += a[k] * a[k]; }
                beta = aa > 0 ? ab / aa : 0;
            }
            double sum = 0;
            for (int k = 0; k < samples; k++) sum += (beta * a[k] - b[k]) * (beta * a[k] - b[k]);
            _infidelity.Add(sum / samples);
        }
    }

    private void AddCompleteness(EvaluationBatch batch, Tensor images, long[] targets, AttributionBaseline baseline)
    {
        var target = tensor(targets, device: _classifier.Device);
        var start = baseline switch
        {
            AttributionBaseline.Black or AttributionBaseline.Zero => zeros_like(images),
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
            _options.TopK.Select((k, ki) => (k, ki)).ToDictionary(p => p.k, p => MetricValue.From(_topK[si, p.ki])),
            new ConsistencyResult(MetricValue.From(_consistency[si].C), MetricValue.From(_consistency[si].Kept), MetricValue.From(_consistency[si].Gap)),
            _options.FaithfulnessCorrelationRuns > 0 ? MetricValue.From(_correlation[si]) : null,
            _options.LinearitySamples > 0 ? MetricValue.From(_linearity[si]) : null)).ToArray();
        bool localized = _options.ObjectMaskColumnName is not null;
        return new AttributionEvaluationResult(_clean.Count, _clean.Mean, faithfulness,
            localized ? MetricValue.From(_pointing) : null, localized ? MetricValue.From(_mass) : null, localized ? MetricValue.From(_rank) : null,
            _options.CompletenessBaseline is null ? null : MetricValue.From(_completeness),
            _options.InfidelitySamples > 0 ? MetricValue.From(_infidelity) : null);
    }

    public void Dispose()
    {
        foreach (var scorer in _scorers.Select(s => s.Scorer).Concat(_logitScorers ?? []))
            (scorer as IDisposable)?.Dispose();
        _maskedClassifiers.Dispose();
    }
}
