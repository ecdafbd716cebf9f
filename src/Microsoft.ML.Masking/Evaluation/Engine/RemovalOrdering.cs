using Microsoft.ML.Masking.Core.Segmentation;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Evaluation.Engine;

/// <summary>The order in which an image's segments are removed.</summary>
internal static class RemovalOrdering
{
    /// <summary>
    /// A permutation of the segments of <paramref name="map"/>: uniformly random, or by mean attribution (most
    /// relevant first or last) with ties in random order. <paramref name="generator"/> must be the image's own,
    /// so the order does not depend on which batch the image falls in.
    /// </summary>
    public static int[] Order(SegmentMap map, RemovalOrder order, ReadOnlySpan<float> attribution, Generator generator)
    {
        int[] permutation;
        using (var random = randperm(map.SegmentCount, generator: generator))
            permutation = random.data<long>().Select(i => (int)i).ToArray();
        if (order == RemovalOrder.Random)
            return permutation;
        var relevance = map.SegmentMeans(attribution);
        // OrderBy is stable, so equal relevances keep the random order.
        return order == RemovalOrder.MostRelevantFirst
            ? permutation.OrderByDescending(s => relevance[s]).ToArray()
            : permutation.OrderBy(s => relevance[s]).ToArray();
    }

    /// <summary>
    /// Writes the keep-mask that removes the first <see cref="SegmentMap.SegmentsForFraction"/> segments of <paramref name="order"/>;
    /// returns the fraction of pixels removed.
    /// </summary>
    public static double WriteKeepMask(SegmentMap map, int[] order, double fraction, Span<float> keep)
    {
        var removed = new bool[map.SegmentCount];
        int count = map.SegmentsForFraction(fraction);
        for (int i = 0; i < count; i++)
            removed[order[i]] = true;
        map.WriteKeepMask(removed, keep);
        int removedPixels = 0;
        foreach (float k in keep)
            if (k == 0) removedPixels++;
        return (double)removedPixels / keep.Length;
    }
}
