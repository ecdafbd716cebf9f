using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.LayerMasking.Engine;
using TorchSharp;
using static Microsoft.ML.Masking.Tests.LayerMasking.TestNetworks;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.LayerMasking;

/// <summary>
/// Layer masking under autograd: the caller decides about <c>no_grad</c>; with gradients enabled the engine runs out
/// of place on the module's own parameters, and its gradients are those of the function the inference path computes.
/// </summary>
[TestClass]
public sealed class LayerMaskingGradientTests
{
    private const int Size = 16;

    private static nn.Module Build(string name) => name switch
    {
        "resnet-basic-small-stem" => SmallBasic(),
        "plain-stack" => PlainStack(),
        _ => throw new ArgumentException(name),
    };

    /// <summary>One logit per image (a different class each), summed: what a saliency method differentiates.</summary>
    private static Tensor Objective(Tensor logits)
    {
        long classes = logits.shape[1];
        var picked = Enumerable.Range(0, (int)logits.shape[0]).Select(i => logits[i, i % classes]).ToArray();
        return stack(picked).sum();
    }

    [TestMethod]
    [DataRow("resnet-basic-small-stem")]
    [DataRow("plain-stack")]
    public void GradientWithRespectToKeptPixelsMatchesFiniteDifferences(string name)
    {
        using var scope = NewDisposeScope();
        // Double precision, so that central differences with a small step are accurate to ~1e-9 and seldom cross a ReLU kink.
        var network = Build(name).to(ScalarType.Float64);
        var masked = LayerMaskedNetwork.Create(network);
        var x = Images(2, 3, Size, seed: 21).to(ScalarType.Float64);
        var keep = PatchMasks(2, Size, 4, removed: 0.5, seed: 22).unsqueeze(1).to(ScalarType.Float64);

        var input = x.clone().requires_grad_(true);
        Objective(masked.Forward(input, keep)).backward();
        var gradient = input.grad!.detach().clone();

        double Value(Tensor images)
        {
            using var s = NewDisposeScope();
            using var _ = no_grad();
            return Objective(masked.Forward(images, keep)).item<double>();
        }

        const double h = 1e-6;
        var keptPositions = keep.expand_as(x).reshape(-1).nonzero().reshape(-1);
        var random = new Random(23);
        double scale = gradient.abs().max().item<double>();
        Assert.IsGreaterThan(0.0, scale, "the logit depends on the kept pixels");
        // Single kept pixels, and random directions over all kept pixels at once.
        var flat = x.reshape(-1);
        for (int trial = 0; trial < 16; trial++)
        {
            Tensor direction;
            if (trial < 12)
            {
                long index = keptPositions[random.Next((int)keptPositions.shape[0])].item<long>();
                direction = zeros_like(flat);
                direction[index] = 1.0;
            }
            else
            {
                direction = randn(flat.shape, dtype: ScalarType.Float64, generator: new Generator((ulong)trial)) * keep.expand_as(x).reshape(-1);
            }
            direction = direction.reshape(x.shape);
            double numeric = (Value(x + direction * h) - Value(x - direction * h)) / (2 * h);
            double analytic = (gradient * direction).sum().item<double>();
            double magnitude = Math.Max(Math.Abs(analytic), scale * direction.abs().max().item<double>());
            Assert.AreEqual(numeric, analytic, 1e-5 * magnitude,
                $"trial {trial}: finite difference {numeric} vs autograd {analytic} (tolerance relative to the gradient's scale {magnitude})");
        }
    }

    [TestMethod]
    [DataRow("resnet-basic-small-stem")]
    [DataRow("plain-stack")]
    public void RemovedPixelsGetExactlyZeroGradientEvenWhenTheyHoldNaN(string name)
    {
        using var scope = NewDisposeScope();
        var masked = LayerMaskedNetwork.Create(Build(name));
        var keep = PatchMasks(3, Size, 4, removed: 0.5, seed: 24).unsqueeze(1);
        var x = Images(3, 3, Size, seed: 25);
        x = where(keep.gt(0), x, full_like(x, float.NaN));
        var input = x.requires_grad_(true);
        Objective(masked.Forward(input, keep)).backward();
        var gradient = input.grad!;
        var removed = keep.expand_as(gradient).eq(0);
        Assert.AreEqual(0f, gradient.masked_select(removed).abs().max().item<float>(), 0f, "removed pixels");
        Assert.IsFalse(gradient.isnan().any().item<bool>(), "no NaN reaches the gradient");
        Assert.IsGreaterThan(0f, gradient.masked_select(removed.logical_not()).abs().max().item<float>(), "kept pixels");
    }

    [TestMethod]
    [DynamicData(nameof(LayerMaskedNetworkTests.Networks), typeof(LayerMaskedNetworkTests))]
    public void AutogradPathGivesTheInferencePathsOutputs(string name, int size)
    {
        using var scope = NewDisposeScope();
        var network = LayerMaskedNetworkTests.Build(name);
        var x = Images(3, 3, size, seed: 26);
        var keep = PatchMasks(3, size, 4, removed: 0.5, seed: 27);
        foreach (bool fold in new[] { true, false })
        {
            var masked = LayerMaskedNetwork.Create(network, foldBatchNorm: fold);
            MaskedForwardResult inference;
            using (no_grad()) inference = masked.ForwardWithFeatures(x, keep);
            var recorded = masked.ForwardWithFeatures(x.clone().requires_grad_(true), keep);
            Assert.IsTrue(recorded.Logits.requires_grad, "gradients enabled: the logits are part of the graph");
            // Folded BatchNorm (inference) against the module's own BatchNorm (autograd) differ by float rounding only.
            double scale = Math.Max(1, inference.Logits.abs().max().item<float>());
            Assert.IsLessThanOrEqualTo(1e-4 * scale, MaxAbsDiff(recorded.Logits, inference.Logits), $"fold {fold}: logits");
            if (inference.Features is not null)
                Assert.IsLessThanOrEqualTo(1e-4 * scale, MaxAbsDiff(recorded.Features!, inference.Features), $"fold {fold}: features");
        }
    }

    [TestMethod]
    [DataRow("resnet-basic-small-stem")]
    [DataRow("plain-stack")]
    public void FastAndReferenceGradientsAgreeForPixelsAndWeights(string name)
    {
        using var scope = NewDisposeScope();
        var network = Build(name).to(ScalarType.Float64);
        var masked = LayerMaskedNetwork.Create(network);
        var x = Images(2, 3, Size, seed: 28).to(ScalarType.Float64);
        var keep = PatchMasks(2, Size, 4, removed: 0.5, seed: 29);

        (Tensor Pixels, Tensor[] Weights) Gradients(Func<Tensor, Tensor> forward)
        {
            network.zero_grad();
            var input = x.clone().requires_grad_(true);
            Objective(forward(input)).backward();
            return (input.grad!.clone(), network.parameters().Select(p => p.grad!.clone()).ToArray());
        }

        var fast = Gradients(input => masked.Forward(input, keep));
        var reference = Gradients(input => masked.ForwardReference(input, keep).Logits);
        double pixelScale = reference.Pixels.abs().max().item<double>();
        Assert.IsLessThanOrEqualTo(1e-9 * pixelScale, (fast.Pixels - reference.Pixels).abs().max().item<double>(), "pixel gradients");
        var names = network.named_parameters().Select(p => p.name).ToArray();
        for (int i = 0; i < names.Length; i++)
        {
            double weightScale = Math.Max(1e-12, reference.Weights[i].abs().max().item<double>());
            Assert.IsLessThanOrEqualTo(1e-9 * weightScale, (fast.Weights[i] - reference.Weights[i]).abs().max().item<double>(), $"gradient of {names[i]}");
        }
    }

    [TestMethod]
    public void BatchNormIsFoldedOnlyByThePassesThatUseTheFoldedWeights()
    {
        using var scope = NewDisposeScope();
        var network = SmallBasic();
        var pixels = Images(2, 3, 32, seed: 30).sigmoid();
        var keep = PatchMasks(2, 32, 4, removed: 0.5, seed: 31);
        using var grey = new MaskedClassifier(network, MaskingMethod.Grey, ChannelNormalization.Identity(3));
        using (no_grad()) grey.Forward(pixels, keep);
        Assert.AreEqual(0, grey.Network.FoldedConvolutions, "a baseline runs the plain pass, which never folds");

        using var layer = new MaskedClassifier(network, MaskingMethod.LayerMasking, ChannelNormalization.Identity(3));
        Assert.AreEqual(0, layer.Network.FoldedConvolutions, "nothing folded at construction");
        layer.Forward(pixels.clone().requires_grad_(true), keep);
        Assert.AreEqual(0, layer.Network.FoldedConvolutions, "the autograd path uses the module's own BatchNorm");
        using (no_grad()) layer.Forward(pixels, keep);
        // Every convolution of SmallBasic is followed by a BatchNorm: stem, 4 blocks × 2, 2 downsamples.
        Assert.AreEqual(11, layer.Network.FoldedConvolutions, "the inference pass folds each convolution's BatchNorm");
        layer.Network.Refresh();
        Assert.AreEqual(0, layer.Network.FoldedConvolutions, "Refresh drops them until the next inference pass");
    }
}
