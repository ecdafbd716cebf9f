using Microsoft.ML.Masking.Core.Segmentation;
using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// Scores many perturbations (rows × masks) in passes of at most the internal batch size: each pass stacks the rows'
/// images, writes the pass's keep-masks and reads back each point's target score.
/// </summary>
internal static class PerturbationScoring
{
    /// <summary>
    /// The target score of every point. Point p belongs to row <paramref name="rowOf"/>(p) of <paramref name="batch"/>;
    /// <paramref name="writeKeep"/>(p, mask) fills its H×W keep-mask (1 kept, 0 removed).
    /// </summary>
    /// <remarks><paramref name="sharedMasksPerRow"/>: when positive, the caller promises that point p is row p / K's mask number p % K
    /// (K this value) and that mask k is the same for every row (occlusion's windows, RISE's masks, patches): passes are
    /// then formed mask-major — the same masks for one row after another — so a scorer that keeps the mask-only work of
    /// its last pass (<see cref="MaskedNetworkScorer"/> under layer masking) derives it once per mask set, not once per
    /// pass. The scores are the same either way (each point is scored alone, its noise drawn per row and ordinal).</remarks>
    public static double[] Score(IPerturbationScorer scorer, AttributionBatch batch, int pointCount, Func<int, int> rowOf,
        Action<int, Span<float>> writeKeep, int internalBatchSize, int seed, int sharedMasksPerRow = 0)
    {
        var scores = new double[pointCount];
        Run(scorer, batch, pointCount, rowOf, writeKeep, internalBatchSize, seed, (points, all, targets) =>
        {
            var selected = all.gather(1, targets.unsqueeze(1)).squeeze(1).to(ScalarType.Float64).cpu().data<double>();
            for (int j = 0; j < points.Length; j++)
                scores[points[j]] = selected[j];
        }, sharedMasksPerRow);
        return scores;
    }

    /// <summary>Every point's whole score vector, [pointCount × classes] row-major (see <see cref="Score"/>).</summary>
    public static float[] Vectors(IPerturbationScorer scorer, AttributionBatch batch, int pointCount, Func<int, int> rowOf,
        Action<int, Span<float>> writeKeep, int internalBatchSize, int seed)
    {
        int classes = scorer.ClassCount;
        var vectors = new float[pointCount * classes];
        Run(scorer, batch, pointCount, rowOf, writeKeep, internalBatchSize, seed, (points, all, _) =>
        {
            var values = all.to(ScalarType.Float32).cpu().data<float>().ToArray();
            for (int j = 0; j < points.Length; j++)
                Array.Copy(values, j * classes, vectors, points[j] * classes, classes);
        });
        return vectors;
    }

    /// <summary>The top class of every point (see <see cref="Score"/>).</summary>
    public static long[] Predict(IPerturbationScorer scorer, AttributionBatch batch, int pointCount, Func<int, int> rowOf,
        Action<int, Span<float>> writeKeep, int internalBatchSize, int seed)
    {
        var predictions = new long[pointCount];
        Run(scorer, batch, pointCount, rowOf, writeKeep, internalBatchSize, seed, (points, all, _) =>
        {
            var top = all.argmax(1).cpu().data<long>().ToArray();
            for (int j = 0; j < points.Length; j++)
                predictions[points[j]] = top[j];
        });
        return predictions;
    }

    private static void Run(IPerturbationScorer scorer, AttributionBatch batch, int pointCount, Func<int, int> rowOf,
        Action<int, Span<float>> writeKeep, int internalBatchSize, int seed, Action<int[], Tensor, Tensor> read, int sharedMasksPerRow = 0)
    {
        if (internalBatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(internalBatchSize), internalBatchSize, "The internal batch size must be at least 1.");
        var (_, h, w) = batch.ImageSize;
        int pixels = h * w;
        var keep = new float[Math.Min(internalBatchSize, Math.Max(pointCount, 1)) * pixels];
        var images = batch.Pixels.to(scorer.Device);
        using var _ = no_grad();
        // Each point's ordinal among its row's points seeds its noise: methods enumerate a row's points in the same
        // order whatever the batch (and both pass orders visit a row's points in increasing order), so the draws follow
        // the row, not the pass.
        var ordinals = new long[batch.Count];
        foreach (var points in Passes(pointCount, internalBatchSize, batch.Count, sharedMasksPerRow))
        {
            int length = points.Length;
            using var scope = NewDisposeScope();
            var rows = new long[length];
            var targets = new long[length];
            var rowIds = new long[length];
            var pointOrdinals = new long[length];
            for (int j = 0; j < length; j++)
            {
                int row = rowOf(points[j]);
                rows[j] = row;
                targets[j] = batch.Targets[row];
                rowIds[j] = batch.RowIds[row];
                pointOrdinals[j] = ordinals[row]++;
                writeKeep(points[j], keep.AsSpan(j * pixels, pixels));
            }
            var stacked = images.index_select(0, tensor(rows, device: scorer.Device));
            var mask = tensor(keep.AsSpan(0, length * pixels).ToArray(), [length, h, w]).to(scorer.Device);
            read(points, scorer.Scores(stacked, mask, new PerturbationNoise(seed, rowIds, pointOrdinals)), tensor(targets, device: scorer.Device));
        }
    }

    /// <summary>
    /// The points of each pass (at most <paramref name="internalBatchSize"/>): consecutive slices, or with
    /// <paramref name="sharedMasksPerRow"/> = K &gt; 0 mask-major — a chunk of c = min(K, batch) masks for groups of
    /// ⌊batch / c⌋ rows, one group after another — so that consecutive passes hold the same masks.
    /// </summary>
    internal static IEnumerable<int[]> Passes(int pointCount, int internalBatchSize, int rowCount, int sharedMasksPerRow)
    {
        if (sharedMasksPerRow <= 0)
        {
            for (int first = 0; first < pointCount; first += internalBatchSize)
                yield return Enumerable.Range(first, Math.Min(internalBatchSize, pointCount - first)).ToArray();
            yield break;
        }
        int k = sharedMasksPerRow;
        if (pointCount != rowCount * k)
            throw new ArgumentException($"Shared masks need {k} points per row ({rowCount * k} in all); got {pointCount}.", nameof(pointCount));
        int chunk = Math.Min(k, internalBatchSize), rowsPerPass = Math.Max(1, internalBatchSize / chunk);
        for (int k0 = 0; k0 < k; k0 += chunk)
        {
            int masks = Math.Min(chunk, k - k0);
            for (int r0 = 0; r0 < rowCount; r0 += rowsPerPass)
            {
                int groupRows = Math.Min(rowsPerPass, rowCount - r0);
                var points = new int[groupRows * masks];
                for (int r = 0; r < groupRows; r++)
                    for (int m = 0; m < masks; m++)
                        points[r * masks + m] = (r0 + r) * k + k0 + m;
                yield return points;
            }
        }
    }

    /// <summary>True when every row has the very same segmentation (patches, or a segment column equal on every row).</summary>
    public static bool SameSegments(IReadOnlyList<SegmentMap> maps) =>
        maps.Count > 0 && maps.All(m => ReferenceEquals(m, maps[0]) || m.Labels.SequenceEqual(maps[0].Labels));

    /// <summary>The target score of every row's whole image (an all-ones keep-mask, so every scorer treats it alike).</summary>
    public static double[] Clean(IPerturbationScorer scorer, AttributionBatch batch, int internalBatchSize, int seed) =>
        Score(scorer, batch, batch.Count, p => p, (_, keep) => keep.Fill(1f), internalBatchSize, seed);

    /// <summary>Paints per-segment values onto pixels: [N, 1, H, W].</summary>
    public static Tensor Paint(IReadOnlyList<SegmentMap> maps, IReadOnlyList<double[]> values, int h, int w, Device device)
    {
        var painted = new float[maps.Count * h * w];
        for (int i = 0; i < maps.Count; i++)
        {
            var labels = maps[i].Labels;
            for (int p = 0; p < labels.Length; p++)
                painted[i * h * w + p] = (float)values[i][labels[p]];
        }
        return tensor(painted, [maps.Count, 1, h, w]).to(device);
    }
}
