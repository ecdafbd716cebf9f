using Microsoft.ML.Masking.Attribution.Engine;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Ensemble;
using Microsoft.ML.Masking.Ensemble.Engine;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Tests.TestDoubles;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Ensemble;

/// <summary>
/// Layer attribution at a member's gated last feature map, from the attribution catalog's engine, against the exact
/// GAP + linear contribution. The rest of the network after that map is T(a) = W·GAP(a) + b, linear in a, so
/// ∂T_k/∂a[c, y, x] = W[k, c] / (h·w) everywhere and, for any baseline map a_b:
/// <list type="bullet">
/// <item>layer IG, summed over positions, is W[k, c]·(GAP(a) − GAP(a_b))[c] times the sum of the quadrature weights,
/// which is 1 for Gauss–Legendre: no integration error, only float rounding. From the zero map it is the exact
/// contribution GAP(a)[c]·W[k, c], and completeness reads Σ = T(a) − T(0) = logit − bias;</item>
/// <item>each GradientSHAP draw is W[k, c]·(GAP(a(x)) − GAP(a(b)))[c] whatever α, so its mean over draws estimates
/// the exact contribution minus the expected contribution of the baseline, with the sampling error of the baseline draws.</item>
/// </list>
/// </summary>
[TestClass]
public sealed class LayerImportanceTests
{
    private static readonly ResNetArchitecture Tiny = EnsembleFixtures.TinyMember;
    private static readonly ImageShape Shape = new(3, 16, 16);
    private static readonly ChannelNormalization Normalization = new([0.4f, 0.5f, 0.6f], [0.25f, 0.3f, 0.2f]);

    private static Tensor Images(int count, long seed) => EnsembleFixtures.Images(count, seed);

    // Member 1's gate gets random output weights, so it differs per input and the layer really is the gated map.
    private static EnsembleNetwork TwoMembers()
    {
        var network = new EnsembleNetwork();
        network.Add(new ResNet(Tiny, seed: 1), null);
        var gate = new ChannelGate(8, 16, 8, initialBias: 0.5, seed: 3);
        using (no_grad())
        {
            var weight = gate.named_parameters().Single(p => p.name == "output.weight").parameter;
            weight.copy_(randn(weight.shape, generator: new Generator(7)));
        }
        network.Add(new ResNet(Tiny, seed: 2), gate);
        network.Freeze(CPU);
        return network;
    }

    private static (Tensor Contributions, Tensor Logits) Exact(EnsembleNetwork network, int member, Tensor pixels, long[] targets)
    {
        using var _ = no_grad();
        var normalized = Normalization.Apply(pixels);
        var forward = network.Member(normalized, member, member > 0 ? network.GateInput(normalized, member) : null);
        var classes = tensor(targets);
        return (ChannelImportance.Contributions(forward.GatedFeatures, network.Members[member].Head.weight, classes),
            forward.Logits.gather(1, classes.unsqueeze(1)).squeeze(1));
    }

    private static AttributionOutput Attribute(EnsembleNetwork network, int member, ImportanceSettings settings, Tensor pixels, long[] targets) =>
        settings.Create(network, member, Shape, Normalization, batchSize: 5, CPU)!
            .Attribute(new AttributionBatch(pixels, targets, Enumerable.Range(0, targets.Length).Select(i => (long)i).ToArray()));

    [TestMethod]
    public void LayerIntegratedGradientsFromTheZeroMapIsTheExactContribution()
    {
        using var scope = NewDisposeScope();
        using var network = TwoMembers();
        var pixels = Images(8, 40);
        long[] targets = [0, 1, 2, 3, 3, 2, 1, 0];
        var settings = new ImportanceSettings(ChannelImportanceMethod.LayerIntegratedGradients, AttributionBaseline.Zero, Steps: 3, 1, 0, 0);

        foreach (int member in new[] { 0, 1 })
        {
            var output = Attribute(network, member, settings, pixels, targets);
            var (exact, logits) = Exact(network, member, pixels, targets);

            Assert.AreEqual(4, output.Attributions.dim());
            Assert.AreEqual(8, output.Attributions.shape[1], "one map per channel of the last feature map");
            var perChannel = output.Attributions.sum([2, 3]);
            FloatAssert.AreClose(exact, perChannel, 1e-5, $"member {member}: layer IG from the zero map, summed over positions, is pooled activation × class weight");
            var bias = network.Members[member].Head.bias!.index_select(0, tensor(targets));
            FloatAssert.AreClose(logits.sub(bias), perChannel.sum(1), 1e-5, $"member {member}: completeness, Σ = T(a) − T(0) = logit − bias");
            Assert.IsTrue(output.RowValues!.All(d => Math.Abs(d) < 1e-4), $"member {member}: the convergence delta is rounding only");
        }
    }

    [TestMethod]
    public void LayerIntegratedGradientsFromAnImageIsTheContributionRelativeToThatImagesFeatures()
    {
        using var scope = NewDisposeScope();
        using var network = TwoMembers();
        var pixels = Images(6, 41);
        long[] targets = [0, 1, 2, 3, 0, 1];
        var settings = new ImportanceSettings(ChannelImportanceMethod.LayerIntegratedGradients, AttributionBaseline.Mean, Steps: 4, 1, 0, 0);

        var perChannel = Attribute(network, 1, settings, pixels, targets).Attributions.sum([2, 3]);

        var grey = Normalization.MeanPixels(CPU).expand_as(pixels).contiguous();
        var relative = Exact(network, 1, pixels, targets).Contributions.sub(Exact(network, 1, grey, targets).Contributions);
        FloatAssert.AreClose(relative, perChannel, 1e-5, "the grey image's gated features are where the path starts");
    }

    [TestMethod]
    public void LayerGradientShapMatchesItsExpectationWithinSamplingError()
    {
        using var scope = NewDisposeScope();
        using var network = TwoMembers();
        var pixels = Images(6, 42);
        long[] targets = [3, 2, 1, 0, 1, 2];
        const int samples = 48;
        var classifier = ImageClassifier.FromModule(network.Members[1], Normalization, Shape);
        // Baselines drawn from {zero map, black image}: each draw is either c(x) or c(x) − c(black), so the expectation
        // c(x) − c(black)/2 is known exactly and the estimate's standard error is |c(black)| / (2√samples).
        var method = new GradientShap(classifier, network.MemberLayer(1), [AttributionBaseline.Zero, AttributionBaseline.Black], samples, 0,
            ScoreKind.Logit, internalBatchSize: 64, seed: 9, device: CPU);

        var estimate = method.Attribute(new AttributionBatch(pixels, targets, [0, 1, 2, 3, 4, 5])).Attributions.sum([2, 3]);

        var exact = Exact(network, 1, pixels, targets).Contributions;
        var black = Exact(network, 1, zeros_like(pixels), targets).Contributions;
        var expectation = exact.sub(black.div(2));
        var standardError = black.abs().div(2 * Math.Sqrt(samples));
        var z = estimate.sub(expectation).abs().div(standardError.ClampMin(1e-6));
        Assert.IsLessThan(4.5f, z.max().item<float>(), "every channel's estimate lies within 4.5 standard errors of the expectation");
        Assert.IsGreaterThan(0.5f, z.mean().item<float>(), "and the draws do vary: it is neither all-zero nor all-black baselines");
        var ends = estimate.sub(exact).abs().min(estimate.sub(exact.sub(black)).abs());
        Assert.IsTrue(ends.gt(standardError).any().item<bool>(), "some channels are strictly between the two baselines' values");
    }

    [TestMethod]
    public void LayerGradientShapFromTheZeroMapWithoutNoiseIsTheExactContribution()
    {
        using var scope = NewDisposeScope();
        using var network = TwoMembers();
        var pixels = Images(5, 43);
        long[] targets = [1, 1, 0, 3, 2];
        var settings = new ImportanceSettings(ChannelImportanceMethod.LayerGradientShap, AttributionBaseline.Zero, 1, Samples: 4, 0, 0);

        var perChannel = Attribute(network, 1, settings, pixels, targets).Attributions.sum([2, 3]);

        FloatAssert.AreClose(Exact(network, 1, pixels, targets).Contributions, perChannel, 1e-5, "the gradient is constant, so α does not matter");
    }

    [TestMethod]
    public void LayerGradientShapTakesNoForwardPassForZeroBaselineDraws()
    {
        using var scope = NewDisposeScope();
        using var network = TwoMembers();
        var pixels = Images(5, 44);
        long[] targets = [0, 1, 2, 3, 0];
        const int samples = 4;
        var classifier = ImageClassifier.FromModule(network.Members[1], Normalization, Shape);
        var layer = new CountingLayer(network.MemberLayer(1));
        var method = new GradientShap(classifier, layer, [AttributionBaseline.Zero], samples, 0,
            ScoreKind.Logit, internalBatchSize: 64, seed: 9, device: CPU);

        var perChannel = method.Attribute(new AttributionBatch(pixels, targets, [0, 1, 2, 3, 4])).Attributions.sum([2, 3]);

        Assert.AreEqual(5 * samples, layer.Rows, "only the draws' end points go to the layer; the zero map needs no pass");
        FloatAssert.AreClose(Exact(network, 1, pixels, targets).Contributions, perChannel, 1e-5, "and the zero map is still the baseline");
    }

    private sealed class CountingLayer(IAttributedLayer inner) : IAttributedLayer
    {
        public long Rows { get; private set; }

        public string LayerName => inner.LayerName;

        public Tensor ToLayer(Tensor normalized)
        {
            Rows += normalized.shape[0];
            return inner.ToLayer(normalized);
        }

        public Tensor FromLayer(Tensor activation) => inner.FromLayer(activation);
    }

    [TestMethod]
    public void TheEnginesLayerByModulePathSplitsTheNetworkThere()
    {
        using var scope = NewDisposeScope();
        using var resnet = new ResNet(Tiny, seed: 6);
        resnet.eval();
        var classifier = ImageClassifier.FromModule(resnet, Normalization, Shape);
        var pixels = Images(4, 45);
        long[] targets = [2, 0, 3, 1];
        var method = new IntegratedGradients(classifier, steps: 2, baseline: AttributionBaseline.Zero, layerName: "layer1");

        var output = method.Attribute(new AttributionBatch(pixels, targets, [0, 1, 2, 3]));

        Tensor features;
        using (no_grad())
            features = resnet.Features(Normalization.Apply(pixels));
        Assert.AreEqual(16, output.Attributions.shape[2], "layer1's map of the 16×16 image (small-image stem, stride 1)");
        FloatAssert.AreClose(ChannelImportance.Contributions(features, resnet.Head.weight, tensor(targets)), output.Attributions.sum([2, 3]), 1e-5,
            "the rest of the network after layer1 is avgpool, flatten, fc");
        Assert.ThrowsExactly<NotSupportedException>(() => method.OutputChannels(3), "a layer's channels are not the image's");
        Assert.ThrowsExactly<ArgumentException>(() => new IntegratedGradients(classifier, layerName: "layer9"));
    }

    [TestMethod]
    public void TheTrainerRecordsLayerImportanceAsAskedAndReproducesIt()
    {
        var ml = new MLContext(1);
        var data = TrainingFixtures.Shapes(ml, 48, seed: 44);
        ChannelImportanceRecord Record(ChannelImportanceMethod method, AttributionBaseline baseline)
        {
            var options = EnsembleFixtures.Options();
            options.MemberCount = 1;
            options.ImportanceMethod = method;
            options.ImportanceBaseline = baseline;
            options.ImportanceSteps = 2;
            return ml.MulticlassClassification.Trainers.DynamicMaskEnsemble(options).Fit(data).ChannelImportance;
        }

        var exact = Record(ChannelImportanceMethod.Exact, AttributionBaseline.Zero);
        var fromZero = Record(ChannelImportanceMethod.LayerIntegratedGradients, AttributionBaseline.Zero);
        var fromGrey = Record(ChannelImportanceMethod.LayerIntegratedGradients, AttributionBaseline.Mean);
        var again = Record(ChannelImportanceMethod.LayerIntegratedGradients, AttributionBaseline.Mean);

        FloatAssert.AreClose(exact[0].ToArray(), fromZero[0].ToArray(), 1e-5, "layer IG from the zero map records the exact contributions");
        Assert.IsGreaterThan(1e-3f, exact[0].Zip(fromGrey[0], (a, b) => Math.Abs(a - b)).Max(), "a grey baseline records something else");
        CollectionAssert.AreEqual(fromGrey[0].ToArray(), again[0].ToArray(), "the same seed records the same importances");
        Assert.AreEqual(ChannelImportanceMethod.LayerIntegratedGradients, fromGrey.Method);
    }
}
