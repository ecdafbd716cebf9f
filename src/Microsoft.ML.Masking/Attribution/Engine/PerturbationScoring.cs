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
    public static double[] Score(IPerturbationScorer scorer, AttributionBatch batch, int pointCount, Func<int, int> rowOf,
        Action<int, Span<float>> writeKeep, int internalBatchSize, int seed)
    {
        var scores = new double[pointCount];
        Run(scorer, batch, pointCount, rowOf, writeKeep, internalBatchSize, seed, (first, length, all, targets) =>
        {
            var selected = all.gather(1, targets.unsqueeze(1)).squeeze(1).to(ScalarType.Float64).cpu().data<double>();
            for (int j = 0; j < length; j++)
                scores[first + j] = selected[j];
        });
        return scores;
    }

    /// <summary>Every point's whole score vector, [pointCount × classes] row-major (see <see cref="Score"/>).</summary>
    public static float[] Vectors(IPerturbationScorer scorer, AttributionBatch batch, int pointCount, Func<int, int> rowOf,
        Action<int, Span<float>> writeKeep, int internalBatchSize, int seed)
    {
        int classes = scorer.ClassCount;
        var vectors = new float[pointCount * classes];
        Run(scorer, batch, pointCount, rowOf, writeKeep, internalBatchSize, seed, (first, length, all, _) =>
            all.to(ScalarType.Float32).cpu().data<float>().ToArray().CopyTo(vectors, first * classes));
        return vectors;
    }

    /// <summary>The top class of every point (see <see cref="Score"/>).</summary>
    public static long[] Predict(IPerturbationScorer scorer, AttributionBatch batch, int pointCount, Func<int, int> rowOf,
        Action<int, Span<float>> writeKeep, int internalBatchSize, int seed)
    {
        var predictions = new long[pointCount];
        Run(scorer, batch, pointCount, rowOf, writeKeep, internalBatchSize, seed, (first, length, all, _) =>
            all.argmax(1).cpu().data<long>().ToArray().CopyTo(predictions, first));
        return predictions;
    }

    private static void Run(IPerturbationScorer scorer, AttributionBatch batch, int pointCount, Func<int, int> rowOf,
        Action<int, Span<float>> writeKeep, int internalBatchSize, int seed, Action<int, int, Tensor, Tensor> read)
    {
        if (internalBatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(internalBatchSize), internalBatchSize, "The internal batch size must be at least 1.");
        var (_, h, w) = batch.ImageSize;
        int pixels = h * w;
        var keep = new float[Math.Min(internalBatchSize, Math.Max(pointCount, 1)) * pixels];
        var images = batch.Pixels.to(scorer.Device);
        using var _ = no_grad();
        // Each point's ordinal among its row's points seeds its noise: methods enumerate a row's points in the same
        // order whatever the batch, so the draws follow the row, not the pass.
        var ordinals = new long[batch.Count];
        for (int first = 0; first < pointCount; first += internalBatchSize)
        {
            int length = Math.Min(internalBatchSize, pointCount - first);
            using var scope = NewDisposeScope();
            var rows = new long[length];
            var targets = new long[length];
            var rowIds = new long[length];
            var pointOrdinals = new long[length];
            for (int j = 0; j < length; j++)
            {
                int row = rowOf(first + j);
                rows[j] = row;
                targets[j] = batch.Targets[row];
                rowIds[j] = batch.RowIds[row];
                pointOrdinals[j] = ordinals[row]++;
                writeKeep(first + j, keep.AsSpan(j * pixels, pixels));
            }
            var stacked = images.index_select(0, tensor(rows, device: scorer.Device));
            var mask = tensor(keep.AsSpan(0, length * pixels).ToArray(), [length, h, w]).to(scorer.Device);
            read(first, length, scorer.Scores(stacked, mask, new PerturbationNoise(seed, rowIds, pointOrdinals)), tensor(targets, device: scorer.Device));
        }
    }

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
