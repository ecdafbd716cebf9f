namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// Localisation of one attribution map against a ground-truth object mask (1 = object): the pointing game (Zhang et
/// al. 2016), relevance mass and relevance rank accuracy (Arras et al. 2022, as Quantus defines them).
/// </summary>
public static class LocalizationMetrics
{
    /// <summary>1 when the most relevant pixel lies on the object, else 0; ties: the first in raster order. NaN without an object.</summary>
    public static double PointingGame(ReadOnlySpan<float> relevance, ReadOnlySpan<float> objectMask)
    {
        Check(relevance, objectMask);
        if (!HasObject(objectMask)) return double.NaN;
        int best = 0;
        for (int p = 1; p < relevance.Length; p++)
            if (relevance[p] > relevance[best]) best = p;
        return objectMask[best] > 0 ? 1 : 0;
    }

    /// <summary>The share of the positive relevance that falls on the object, Σ_obj R⁺ / Σ R⁺; NaN without an object or positive relevance.</summary>
    public static double RelevanceMass(ReadOnlySpan<float> relevance, ReadOnlySpan<float> objectMask)
    {
        Check(relevance, objectMask);
        if (!HasObject(objectMask)) return double.NaN;
        double inside = 0, total = 0;
        for (int p = 0; p < relevance.Length; p++)
        {
            double r = Math.Max(0, relevance[p]);
            total += r;
            if (objectMask[p] > 0) inside += r;
        }
        return total > 0 ? inside / total : double.NaN;
    }

    /// <summary>Of the K most relevant pixels, K the object's size, the fraction on the object (ties broken by raster order); NaN without an object.</summary>
    public static double RelevanceRank(ReadOnlySpan<float> relevance, ReadOnlySpan<float> objectMask)
    {
        Check(relevance, objectMask);
        int k = 0;
        foreach (float m in objectMask) if (m > 0) k++;
        if (k == 0) return double.NaN;
        var values = relevance.ToArray();
        var order = Enumerable.Range(0, values.Length).OrderByDescending(p => values[p]).Take(k);
        var mask = objectMask.ToArray();
        return order.Count(p => mask[p] > 0) / (double)k;
    }

    private static bool HasObject(ReadOnlySpan<float> objectMask)
    {
        foreach (float m in objectMask) if (m > 0) return true;
        return false;
    }

    private static void Check(ReadOnlySpan<float> relevance, ReadOnlySpan<float> objectMask)
    {
        if (relevance.Length != objectMask.Length)
            throw new ArgumentException($"The attribution has {relevance.Length} pixels but the object mask {objectMask.Length}.");
    }
}
