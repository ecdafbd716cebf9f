using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Ensemble.Engine;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Tests.TestDoubles;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Ensemble;

[TestClass]
public sealed class EnsembleEngineTests
{
    private static readonly ResNetArchitecture Tiny = EnsembleFixtures.TinyMember;

    private static Tensor Images(int count, long seed) => EnsembleFixtures.Images(count, seed);

    [TestMethod]
    public void ChannelContributionsSumToTheLogitMinusTheBias()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var network = new ResNet(Tiny, seed: 3);
        network.eval();
        var x = Images(8, 1);
        var features = network.Features(x);
        var logits = network.Head.forward(features);
        var classes = tensor(new long[] { 0, 1, 2, 3, 3, 2, 1, 0 });

        var contributions = ChannelImportance.Contributions(features, network.Head.weight, classes);

        Assert.AreEqual(8, contributions.shape[1], "one contribution per channel of the last feature map");
        var expected = logits.gather(1, classes.unsqueeze(1)).squeeze(1) - network.Head.bias!.index_select(0, classes);
        FloatAssert.AreClose(expected, contributions.sum(1), 1e-5, "GAP + linear: the channels' contributions add up to logit − bias");
    }

    /// <summary>A fresh three-member network whose gates (members 1 and 2) start at sigmoid(<paramref name="bias"/>).</summary>
    private static EnsembleNetwork FreshNetwork(double bias)
    {
        var network = new EnsembleNetwork();
        network.Add(new ResNet(Tiny, seed: 1), null);
        network.Add(new ResNet(Tiny, seed: 2), new ChannelGate(8, 16, 8, initialBias: bias, seed: 3));
        network.Add(new ResNet(Tiny, seed: 4), new ChannelGate(16, 16, 8, initialBias: bias, seed: 5));
        network.Freeze(CPU);
        return network;
    }

    /// <summary>The mean of the members' probabilities when member i's last feature map is multiplied by <paramref name="scale"/>[i].</summary>
    private static Tensor MeanOfScaledMembers(EnsembleNetwork network, Tensor x, float[] scale) =>
        stack(network.Members.Select((m, i) => m.Head.forward(m.Pool(m.FeatureMap(x).mul(scale[i]))).softmax(1)), 0).mean([0]);

    [TestMethod]
    public void FreshGatesAreSigmoidOfTheBiasAndTheEnsembleIsTheMeanOfMembersWithScaledLastMaps()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // The default bias (2): the gate starts at 0.88, open enough to pass most of each feature and far enough from
        // saturation (slope 0.105) for the gating network to learn.
        double bias = new Microsoft.ML.Masking.Ensemble.DynamicMaskEnsembleTrainer.Options().GateInitialBias;
        using var network = FreshNetwork(bias);
        var x = Images(16, 2);

        var forward = network.Forward(x);
        var scores = OpenSetScores.Compute(forward, [1 / 3f, 1 / 3f, 1 / 3f]);

        float open = (float)(1 / (1 + Math.Exp(-bias)));
        Assert.IsTrue(forward[0].Gate.eq(1).all().item<bool>(), "member 0 is never gated");
        FloatAssert.AreClose(full_like(forward[1].Gate, open), forward[1].Gate, 1e-6, "a fresh gate is sigmoid(bias) for every input");
        FloatAssert.AreClose(full_like(forward[2].Gate, open), forward[2].Gate, 1e-6, "a fresh gate is sigmoid(bias) for every input");
        var scaled = MeanOfScaledMembers(network, x, [1, open, open]);
        FloatAssert.AreClose(scaled, scores.Probabilities, 1e-5,
            "fresh gates: the ensemble is the mean of member 0 and members 1, 2 with their last maps times sigmoid(bias)");
        var unmasked = MeanOfScaledMembers(network, x, [1, 1, 1]);
        Assert.IsTrue(unmasked.sub(scaled).abs().max().item<float>() > 1e-3, "at this bias the scaling is visible, so the check above is not the unmasked mean");
        FloatAssert.AreClose(full_like(scores.GateClosure, 1 - open), scores.GateClosure, 1e-5, "closure is 1 − the fresh gate");
    }

    [TestMethod]
    public void WithALargeInitialBiasFreshGatesAreOpenAndTheEnsembleIsTheUnmaskedMean()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var network = FreshNetwork(bias: 12);  // 1 − sigmoid(12) = 6e-6 of each gated feature is held back
        var x = Images(16, 2);

        var scores = OpenSetScores.Compute(network.Forward(x), [1 / 3f, 1 / 3f, 1 / 3f]);

        FloatAssert.AreClose(MeanOfScaledMembers(network, x, [1, 1, 1]), scores.Probabilities, 1e-4, "open gates: the ensemble is the plain mean of the members");
    }

    [TestMethod]
    public void DistilledExamplesStayWithinEpsilonAndApproachThePartnersFeatures()
    {
        using var scope = NewDisposeScope();
        using var network = new ResNet(Tiny, seed: 7);
        network.eval();
        foreach (var p in network.parameters())
            p.requires_grad = false;
        var normalization = ChannelNormalization.Identity(3);
        var x = Images(12, 3);
        var labels = new long[] { 0, 0, 1, 1, 2, 2, 3, 3, 0, 1, 2, 3 };
        using var generator = new Generator(11);
        var partners = FeatureDistillationAttack.DifferentClassPartners(labels, generator);
        var targets = x.index_select(0, tensor(partners));
        var channels = tensor(new long[] { 1, 4, 6 });
        const double epsilon = 0.05;
        var attack = new FeatureDistillationAttack(epsilon, 10, 2.5 * epsilon / 10, 0.9, 0, 1);

        var distilled = attack.Run(network, normalization, x, targets, channels);

        for (int k = 0; k < labels.Length; k++)
            Assert.AreNotEqual(labels[k], labels[partners[k]], $"image {k} is paired with an image of another class");
        Assert.IsLessThanOrEqualTo(epsilon + 1e-6, (distilled - x).abs().max().item<float>(), "the L∞ budget holds");
        Assert.IsTrue(distilled.ge(0).all().item<bool>() && distilled.le(1).all().item<bool>(), "pixels stay in range");
        using var noGrad = no_grad();
        var targetFeatures = network.Features(targets).index_select(1, channels);
        double before = FeatureDistillationAttack.Distance(network, normalization, x, channels, targetFeatures).mean().item<float>();
        double after = FeatureDistillationAttack.Distance(network, normalization, distilled, channels, targetFeatures).mean().item<float>();
        Assert.IsLessThan(0.9 * before, after, $"the targeted feature distance falls (before {before:G4}, after {after:G4})");
    }

    [TestMethod]
    public void TopChannelsTakeTheShareRoundedUpHighestFirst()
    {
        CollectionAssert.AreEqual(new long[] { 2, 0 }, ChannelImportance.TopChannels([0.5f, -1f, 2f, 0.1f, 0.2f], 0.3));
        CollectionAssert.AreEqual(new long[] { 2 }, ChannelImportance.TopChannels([0.5f, -1f, 2f, 0.1f, 0.2f], 0.01));
    }
}
