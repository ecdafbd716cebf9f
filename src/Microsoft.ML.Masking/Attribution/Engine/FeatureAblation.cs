namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// Feature ablation over segments (Captum's <c>FeatureAblation</c> with a feature mask): each segment's attribution is
/// f(x) − f(x with that segment removed), painted onto its pixels.
/// </summary>
public sealed class FeatureAblation : PerturbationMethod
{
    /// <summary>Creates the method.</summary>
    public FeatureAblation(IPerturbationScorer scorer, int internalBatchSize = 64, int seed = 0) : base(scorer, internalBatchSize, seed)
    {
    }

    /// <inheritdoc/>
    public override string Name => "FeatureAblation";

    /// <inheritdoc/>
    public override bool NeedsSegments => true;

    /// <inheritdoc/>
    public override AttributionOutput Attribute(AttributionBatch batch)
    {
        var maps = batch.RequireSegments(Name);
        var (_, h, w) = batch.ImageSize;
        var offsets = new int[maps.Count + 1];
        for (int i = 0; i < maps.Count; i++)
            offsets[i + 1] = offsets[i] + maps[i].SegmentCount;
        int RowOf(int p) { int r = Array.BinarySearch(offsets, p); return r >= 0 ? r : ~r - 1; }
        var clean = Clean(batch);
        var scores = Score(batch, offsets[^1], RowOf, (p, keep) =>
        {
            int row = RowOf(p), segment = p - offsets[row];
            var labels = maps[row].Labels;
            for (int q = 0; q < labels.Length; q++)
                keep[q] = labels[q] == segment ? 0f : 1f;
        }, PerturbationScoring.SameSegments(maps) ? maps[0].SegmentCount : 0);
        var values = maps.Select((m, i) => Enumerable.Range(0, m.SegmentCount).Select(s => clean[i] - scores[offsets[i] + s]).ToArray()).ToArray();
        return new AttributionOutput(PerturbationScoring.Paint(maps, values, h, w, TorchSharp.torch.CPU));
    }
}
