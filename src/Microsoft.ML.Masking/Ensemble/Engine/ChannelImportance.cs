using Microsoft.ML.Masking.Attribution.Engine;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Ensemble.Engine;

/// <summary>
/// The exact per-channel logit contribution of a global-average-pool + linear head: for pooled features a [N, C]
/// and class weights W [K, C], channel c contributes a[n, c]·W[k, c] to the logit of class k, and the contributions
/// of all channels sum to that logit minus the class's bias (no approximation, unlike gradient attributions).
/// </summary>
internal static class ChannelImportance
{
    /// <summary>Contributions [N, C] of each channel to the logit of <paramref name="classes"/> [N] (int64).</summary>
    public static Tensor Contributions(Tensor pooledFeatures, Tensor classWeights, Tensor classes)
    {
        using var scope = NewDisposeScope();
        return pooledFeatures.mul(classWeights.index_select(0, classes)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The mean over <paramref name="examples"/> of each channel's importance for the true class's logit, for member
    /// <paramref name="member"/> of <paramref name="network"/> as it predicts (its gate applied): the exact contribution,
    /// or a layer attribution of the attribution catalog's engine (Integrated Gradients, GradientSHAP) at the gated last
    /// feature map summed over positions, as <paramref name="settings"/> say.
    /// </summary>
    public static float[] Measure(EnsembleNetwork network, int member, TrainingExamples examples, ChannelNormalization normalization,
        ImportanceSettings settings, int batchSize, Device device, Action checkAlive)
    {
        using var noGrad = no_grad();
        var labels = examples.Labels ?? throw new InvalidOperationException("Channel importance needs labels.");
        var attribution = settings.Create(network, member, examples.Shape, normalization, batchSize, device);
        using var sum = zeros(network.Members[member].Architecture.FeatureChannels, ScalarType.Float64, device);
        for (long start = 0; start < examples.Count; start += batchSize)
        {
            checkAlive();
            using var scope = NewDisposeScope();
            long count = Math.Min(batchSize, examples.Count - start);
            var pixels = examples.Images.narrow(0, start, count).to(device);
            var targets = labels.narrow(0, start, count).to(device);
            Tensor importance;
            if (attribution is null)
            {
                var images = normalization.Apply(pixels);
                var forward = network.Member(images, member, member > 0 ? network.GateInput(images, member) : null);
                importance = Contributions(forward.GatedFeatures, network.Members[member].Head.weight, targets);
            }
            else
            {
                var batch = new AttributionBatch(pixels, targets.cpu().data<long>().ToArray(), Enumerable.Range(0, (int)count).Select(k => start + k).ToArray());
                importance = attribution.Attribute(batch).Attributions.sum([2, 3]);
            }
            sum.PlusInPlace(importance.to_type(ScalarType.Float64).sum(0L));
        }
        using var mean = sum.DividedBy(examples.Count).to_type(ScalarType.Float32).cpu();
        return mean.data<float>().ToArray();
    }

    /// <summary>The indices (int64) of the <paramref name="share"/> most important channels (at least one), highest first.</summary>
    public static long[] TopChannels(IReadOnlyList<float> importance, double share)
    {
        int k = Math.Max(1, (int)Math.Ceiling(share * importance.Count));
        return Enumerable.Range(0, importance.Count).OrderByDescending(c => importance[c]).ThenBy(c => c).Take(k).Select(c => (long)c).ToArray();
    }
}
