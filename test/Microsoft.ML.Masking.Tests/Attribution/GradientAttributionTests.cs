using Microsoft.ML.Masking.Attribution;
using Microsoft.ML.Masking.Attribution.Engine;
using Microsoft.ML.Masking.Core;
using TorchSharp.Modules;
using static Microsoft.ML.Masking.Tests.Attribution.AttributionTestData;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Attribution;

/// <summary>The gradient methods against their definitions: completeness, autograd, CAM.</summary>
[TestClass]
public sealed class GradientAttributionTests
{
    /// <summary>
    /// A small CNN with smooth activations. Gauss–Legendre quadrature converges fast on smooth integrands; on a ReLU
    /// network the integrand jumps at every kink, and 64 steps leave deltas of up to a few percent (docs/results.md).
    /// </summary>
    private static nn.Module<Tensor, Tensor> SmoothCnn()
    {
        var network = nn.Sequential(
            ("conv1", nn.Conv2d(3, 8, 3, padding: 1)), ("act1", nn.SiLU()),
            ("conv2", nn.Conv2d(8, 8, 3, stride: 2, padding: 1)), ("act2", nn.Tanh()),
            ("gap", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten()), ("fc", nn.Linear(8, 4)));
        using (no_grad())
            foreach (var p in network.parameters())
                p.normal_(0, 0.5, generator: new Generator(7));
        network.eval();
        return network;
    }

    [TestMethod]
    public void IntegratedGradientsWith64GaussLegendreStepsIsCompleteWithinOnePercent()
    {
        using var scope = NewDisposeScope();
        var classifier = new TorchClassifier(ImageClassifier.FromModule(SmoothCnn(), CnnNormalization, new Masking.Data.ImageShape(3, CnnSide, CnnSide)));
        var ml = new MLContext(0);
        var pixels = ImageTensor(CnnData(ml, 4), 3, CnnSide);
        var ig = new IntegratedGradients(classifier.Description, steps: 64, rule: IntegrationRule.GaussLegendre, internalBatchSize: 50);
        var targets = new long[] { 0, 1, 2, 3 };
        var result = ig.Attribute(new AttributionBatch(pixels, targets, [0, 1, 2, 3]));
        using var _ = no_grad();
        var fx = classifier.TargetScores(pixels, tensor(targets), ScoreKind.Logit);
        var fb = classifier.TargetScores(zeros_like(pixels), tensor(targets), ScoreKind.Logit);
        var gap = fx.sub(fb).data<float>().ToArray();
        var sums = result.Attributions.sum([1, 2, 3]).data<float>().ToArray();
        for (int i = 0; i < 4; i++)
        {
            Assert.IsGreaterThan(1e-3, Math.Abs(gap[i]), "the test needs rows whose score moves along the path");
            Assert.AreEqual(sums[i] - gap[i], result.RowValues![i], 1e-4 * Math.Abs(gap[i]) + 1e-6, "the row value is Σ attribution − (f(x) − f(b))");
            Assert.IsLessThan(0.01, Math.Abs(result.RowValues[i]) / Math.Abs(gap[i]), $"row {i}: delta {result.RowValues[i]} against f(x) − f(b) = {gap[i]}");
        }
    }

    [TestMethod]
    public void IntegrationRulesFollowCaptumAndGaussLegendreIsExactForPolynomials()
    {
        var (alphas, weights) = IntegrationRules.For(IntegrationRule.GaussLegendre, 3);
        // Three nodes integrate degree 5 exactly: ∫₀¹ x⁵ = 1/6.
        Assert.AreEqual(1.0 / 6, alphas.Zip(weights, (a, w) => w * Math.Pow(a, 5)).Sum(), 1e-12);
        Assert.AreEqual(1.0, weights.Sum(), 1e-12);
        CollectionAssert.AreEqual(new[] { 0.0, 0.25, 0.5, 0.75 }, IntegrationRules.For(IntegrationRule.RiemannLeft, 4).Alphas);
        CollectionAssert.AreEqual(new[] { 0.25, 0.5, 0.75, 1.0 }, IntegrationRules.For(IntegrationRule.RiemannRight, 4).Alphas);
        CollectionAssert.AreEqual(new[] { 0.125, 0.375, 0.625, 0.875 }, IntegrationRules.For(IntegrationRule.RiemannMiddle, 4).Alphas);
        var trapezoid = IntegrationRules.For(IntegrationRule.RiemannTrapezoid, 5);
        CollectionAssert.AreEqual(new[] { 0.0, 0.25, 0.5, 0.75, 1.0 }, trapezoid.Alphas);
        CollectionAssert.AreEqual(new[] { 0.1, 0.2, 0.2, 0.2, 0.1 }, trapezoid.Weights.Select(w => Math.Round(w, 12)).ToArray());
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => IntegrationRules.For(IntegrationRule.RiemannLeft, 1));
    }

    [TestMethod]
    public void SaliencyColumnEqualsTheAutogradGradientOfEachImageAlone()
    {
        var ml = new MLContext(0);
        var network = Cnn();
        var data = CnnData(ml, 5);
        var model = ml.Transforms.Attribution().Saliency(new SaliencyOptions
        {
            Classifier = CnnClassifier(network), BatchSize = 3, InternalBatchSize = 2,
        }).Fit(data);
        var maps = Vectors(model.Transform(data), "Attribution");
        var images = Vectors(data, "Image");
        Assert.HasCount(5, maps);
        for (int i = 0; i < images.Length; i++)
        {
            using var scope = NewDisposeScope();
            var x = tensor(images[i], [1, 3, CnnSide, CnnSide]).requires_grad_(true);
            var logits = network.forward(CnnNormalization.Apply(x));
            long target = logits.argmax(1).item<long>();
            logits[0, target].backward();
            var expected = x.grad!.abs().data<float>().ToArray();
            Assert.IsLessThan(1e-5, RelativeDifference([maps[i]], [expected]), $"row {i}");
        }
    }

    [TestMethod]
    public void ReducedChannelsAndInputXGradientAreTheirDefinitions()
    {
        var ml = new MLContext(0);
        var network = Cnn();
        var data = CnnData(ml, 2);
        IDataView Run(GradientAttributionOptions o) => ml.Transforms.Attribution().Saliency((SaliencyOptions)o).Fit(data).Transform(data);
        var full = Vectors(Run(new SaliencyOptions { Classifier = CnnClassifier(network), Absolute = false }), "Attribution");
        var summed = Vectors(Run(new SaliencyOptions { Classifier = CnnClassifier(network), Absolute = false, ChannelReduction = ChannelReduction.Sum }), "Attribution");
        Assert.HasCount(CnnSide * CnnSide, summed[0]);
        var expected = full.Select(f => Enumerable.Range(0, CnnSide * CnnSide).Select(p => f[p] + f[p + 256] + f[p + 512]).ToArray()).ToArray();
        Assert.IsLessThan(1e-5, RelativeDifference(summed, expected));

        var ixg = Vectors(ml.Transforms.Attribution().InputXGradient(new InputXGradientOptions { Classifier = CnnClassifier(network) }).Fit(data).Transform(data), "Attribution");
        var images = Vectors(data, "Image");
        Assert.IsLessThan(1e-5, RelativeDifference(ixg, full.Select((f, i) => f.Select((g, j) => g * images[i][j]).ToArray()).ToArray()));
    }

    [TestMethod]
    public void GradCamOnTheLastConvolutionOfAPooledLinearNetworkIsTheClassActivationMap()
    {
        using var scope = NewDisposeScope();
        var conv = nn.Conv2d(3, 6, 3, padding: 1);
        var fc = nn.Linear(6, 4);
        var network = nn.Sequential(("conv", conv), ("act", nn.ReLU()), ("gap", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten()), ("fc", fc));
        network.eval();
        var classifier = ImageClassifier.FromModule(network, ChannelNormalization.Identity(3), new Masking.Data.ImageShape(3, 8, 8));
        var cam = new GradCam(classifier, "act", relu: true);
        cam.CheckNetwork(3, 8, 8);
        var pixels = rand(new long[] { 2, 3, 8, 8 }, generator: new Generator(4));
        var result = cam.Attribute(new AttributionBatch(pixels, [1, 3], [0, 1])).Attributions;
        using var _ = no_grad();
        var activation = conv.forward(pixels).relu();
        var weight = fc.weight!;
        for (int i = 0; i < 2; i++)
        {
            long target = i == 0 ? 1 : 3;
            // ∂y/∂A_k = W[t, k] / (h·w) everywhere, so Grad-CAM is the CAM of Zhou et al. divided by h·w.
            var expected = activation.select(0, i).mul(weight.select(0, target).view(-1, 1, 1)).sum([0]).div(tensor(64f)).relu();
            Assert.IsLessThan(1e-5, (result.select(0, i).select(0, 0).sub(expected)).abs().max().item<float>() / Math.Max(1e-6, expected.abs().max().item<float>()));
        }
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new GradCam(classifier, "dense")).Message, "candidates: conv, act, gap, flat, fc");
    }

    [TestMethod]
    public void GradCamOnANamedResNetLayerGivesOneNonNegativeMapPerImage()
    {
        var ml = new MLContext(0);
        var data = CnnData(ml, 3);
        var model = ml.Transforms.Attribution().GradCam(new GradCamOptions { Classifier = CnnClassifier(), LayerName = "layer2.0" }).Fit(data);
        var maps = Vectors(model.Transform(data), "Attribution");
        Assert.HasCount(3, maps);
        foreach (var map in maps)
        {
            Assert.HasCount(CnnSide * CnnSide, map);
            Assert.IsTrue(map.All(v => v >= 0 && float.IsFinite(v)));
        }
        Assert.IsTrue(maps.Any(m => m.Any(v => v > 0)), "some map is not all zero");
    }

    [TestMethod]
    public void NoiseTunnelWithoutNoiseReturnsTheInnerMethodAndVarGradZero()
    {
        using var scope = NewDisposeScope();
        var classifier = CnnClassifier();
        var pixels = rand(new long[] { 2, 3, CnnSide, CnnSide }, generator: new Generator(2));
        var batch = new AttributionBatch(pixels, [0, 2], [5, 6]);
        var plain = new Saliency(classifier).Attribute(batch).Attributions;
        var smooth = new NoiseTunnel(new Saliency(classifier), NoiseTunnelKind.SmoothGrad, samples: 3, noiseFraction: 0).Attribute(batch).Attributions;
        var vargrad = new NoiseTunnel(new Saliency(classifier), NoiseTunnelKind.VarGrad, samples: 3, noiseFraction: 0).Attribute(batch).Attributions;
        Assert.IsLessThan(1e-5, smooth.sub(plain).abs().max().item<float>() / plain.abs().max().item<float>());
        Assert.IsLessThan(1e-6, vargrad.abs().max().item<float>() / plain.abs().max().item<float>());
        var noisy = new NoiseTunnel(new Saliency(classifier), NoiseTunnelKind.SmoothGradSquared, samples: 4, noiseFraction: 0.2).Attribute(batch).Attributions;
        Assert.IsGreaterThan(0.05, noisy.sub(plain.square()).abs().max().item<float>() / plain.square().max().item<float>(), "noise changes the map");
    }

    [TestMethod]
    public void IntegratedGradientsTransformerWritesTheDeltaColumnAndSavesWithThePipeline()
    {
        var ml = new MLContext(0);
        var data = CnnData(ml, 3);
        var options = new IntegratedGradientsOptions { Classifier = CnnClassifier(), Steps = 16, Target = AttributionTarget.FixedClass(2), InternalBatchSize = 20 };
        var model = ml.Transforms.Attribution().IntegratedGradients(options).Fit(data);
        var output = model.Transform(data);
        var maps = Vectors(output, "Attribution");
        var deltas = Floats(output, "CompletenessDelta");
        Assert.HasCount(3, deltas);
        var path = Path.Combine(Path.GetTempPath(), $"ig-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(model, data.Schema, path);
            var loaded = ml.Model.Load(path, out _);
            var reloaded = loaded.Transform(data);
            Assert.IsLessThan(1e-6, RelativeDifference(Vectors(reloaded, "Attribution"), maps));
            CollectionAssert.AreEqual(deltas, Floats(reloaded, "CompletenessDelta"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
