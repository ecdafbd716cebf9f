using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.LayerMasking.Engine;
using Microsoft.ML.Masking.LayerMasking.Engine.Nodes;
using Microsoft.ML.Masking.Models.Onnx;
using Microsoft.ML.Masking.Tests.Models;
using Microsoft.ML.Masking.Tests.TestDoubles;
using TorchSharp;
using static Microsoft.ML.Masking.Tests.LayerMasking.TestNetworks;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.LayerMasking;

/// <summary>
/// Layer masking under autograd: the caller decides about <c>no_grad</c>; with gradients enabled the engine runs out
/// of place on the module's own parameters, and its gradients are those of the function the inference path computes.
/// Besides a ResNet and a plain stack, every other kind of graph node: a stack of element-wise activations (ReLU6,
/// Hardswish, SiLU, GELU, Sigmoid, Hardsigmoid, Tanh), depthwise convolution, squeeze-and-excitation, average pooling as a
/// masked mean (padding counted and not) and adaptive pooling to 2×2; and a channel concatenation (an ONNX file).
/// </summary>
[TestClass]
public sealed class LayerMaskingGradientTests
{
    private const int Size = 16;

    public TestContext TestContext { get; set; } = null!;

    private nn.Module Build(string name)
    {
        switch (name)
        {
            case "resnet-basic-small-stem": return SmallBasic();
            case "plain-stack": return PlainStack();
            case "node-stack":
                torch.manual_seed(40);
                return NodeStack();
            case "onnx-concat":
                // No TorchSharp module produces a ConcatNode: an ONNX file built here does (Inception-like, three branches).
                var b = new OnnxGraphBuilder(3, Size, seed: 42);
                var path = b.Save(OnnxImportTests.ConcatLike(b), Path.Combine(TestFolders.Create(TestContext, "graph-gradients"), "concat.onnx"));
                return OnnxNetwork.Import(path, imageShape: null, tolerance: 1e-4).Network;
            default:
                throw new ArgumentException(name);
        }
    }

    /// <summary>Every TorchSharp-built node kind of the graph engine in one small stack.</summary>
    private static nn.Module<Tensor, Tensor> NodeStack() => HeNormal(WithRandomBatchNorm(nn.Sequential(
        ("conv", nn.Conv2d(3, 8, 3, padding: 1)),
        ("bn", nn.BatchNorm2d(8)),
        ("relu6", nn.ReLU6()),
        ("depthwise", nn.Conv2d(8, 8, 3, padding: 1, groups: 8, bias: false)),
        ("bn2", nn.BatchNorm2d(8)),
        ("hardswish", nn.Hardswish()),
        ("se", torchvision.ops.SqueezeExcitation(8, 4, () => nn.SiLU(), () => nn.Hardsigmoid())),
        ("pointwise", nn.Conv2d(8, 8, 1)),
        ("silu", nn.SiLU()),
        ("avgpool", nn.AvgPool2d(3, stride: 1, padding: 1)),
        ("conv3", nn.Conv2d(8, 8, 3, padding: 1)),
        ("gelu", nn.GELU()),
        ("avgpool-nopad", nn.AvgPool2d(3, stride: 2, padding: 1, count_include_pad: false)),
        ("sigmoid", nn.Sigmoid()),
        ("conv4", nn.Conv2d(8, 8, 3, padding: 1)),
        ("hardsigmoid", nn.Hardsigmoid()),
        ("conv5", nn.Conv2d(8, 8, 3, padding: 1)),
        ("tanh", nn.Tanh()),
        ("adaptive", nn.AdaptiveAvgPool2d(2)),
        ("flatten", nn.Flatten()),
        ("fc", nn.Linear(32, 3))), 41));

    /// <summary>He-normal weights (TorchSharp's default initialisation shrinks the signal by about √3 per layer, and
    /// this stack's saturating activations would leave the pixel gradients at 1e-7 of the logits').</summary>
    private static T HeNormal<T>(T network) where T : nn.Module
    {
        using var _ = no_grad();
        foreach (var module in network.modules())
            if (module is TorchSharp.Modules.Conv2d { weight: { } w })
                nn.init.kaiming_normal_(w);
        return network;
    }


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
    [DataRow("node-stack")]
    [DataRow("onnx-concat")]
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
    [DataRow("node-stack")]
    [DataRow("onnx-concat")]
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
        AssertAutogradGivesTheInferenceOutputs(name, LayerMaskedNetworkTests.Build(name), size, seed: 26);
    }

    /// <summary>The autograd path's logits and features against the inference path's, with BatchNorm folded and not.</summary>
    private static void AssertAutogradGivesTheInferenceOutputs(string name, nn.Module network, int size, long seed)
    {
        var x = Images(3, 3, size, seed);
        var keep = PatchMasks(3, size, 4, removed: 0.5, seed + 1);
        foreach (bool fold in new[] { true, false })
        {
            var masked = LayerMaskedNetwork.Create(network, foldBatchNorm: fold);
            MaskedForwardResult inference;
            using (no_grad()) inference = masked.ForwardWithFeatures(x, keep);
            var recorded = masked.ForwardWithFeatures(x.clone().requires_grad_(true), keep);
            Assert.IsTrue(recorded.Logits.requires_grad, "gradients enabled: the logits are part of the graph");
            // Folded BatchNorm (inference) against the module's own BatchNorm (autograd) differ by float rounding only.
            double scale = Math.Max(1, inference.Logits.abs().max().item<float>());
            Assert.IsLessThanOrEqualTo(1e-4 * scale, MaxAbsDiff(recorded.Logits, inference.Logits), $"{name}, fold {fold}: logits");
            if (inference.Features is not null)
                Assert.IsLessThanOrEqualTo(1e-4 * scale, MaxAbsDiff(recorded.Features!, inference.Features), $"{name}, fold {fold}: features");
        }
    }

    [TestMethod]
    [DataRow("node-stack")]
    [DataRow("onnx-concat")]
    public void TheNodeKindsUnderTestAreInTheGraphAndTheirAutogradPathGivesTheInferenceOutputs(string name)
    {
        using var scope = NewDisposeScope();
        var network = Build(name);
        var kinds = LayerMaskedNetwork.Create(network).Layers.Select(l => l.GetType()).ToHashSet();
        Type[] expected = name == "node-stack"
            ? [typeof(ActivationNode), typeof(SqueezeExcitationNode), typeof(AveragePoolNode), typeof(AdaptiveAveragePoolNode), typeof(ConvolutionNode)]
            : [typeof(ConcatNode), typeof(MaxPoolNode)];
        foreach (var kind in expected)
            Assert.Contains(kind, kinds, $"{name}: a {kind.Name}");
        AssertAutogradGivesTheInferenceOutputs(name, network, Size, seed: 43);
    }

    [TestMethod]
    [DataRow("resnet-basic-small-stem")]
    [DataRow("plain-stack")]
    [DataRow("node-stack")]
    [DataRow("onnx-concat")]
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
            return (input.grad!.clone(), network.parameters().Select(p => p.grad is null ? zeros_like(p) : p.grad.clone()).ToArray());
        }

        var fast = Gradients(input => masked.Forward(input, keep));
        var reference = Gradients(input => masked.ForwardReference(input, keep).Logits);
        // The same function computed in another order (the padding recurrence against literal iterations, lazy against
        // eager masking), in float64. The node stack's pixel gradients are ~1e-4 of its activations (saturating
        // activations in series), so their rounding differences reach ~1e-8 of the gradients' own scale: 1e-7 relative
        // there (a difference in a mask rule would be of the gradients' order).
        double tolerance = name == "node-stack" ? 1e-7 : 1e-9;
        double pixelScale = reference.Pixels.abs().max().item<double>();
        Assert.IsGreaterThan(0.0, pixelScale, $"{name}: pixel gradients are not all zero");
        Assert.IsLessThanOrEqualTo(tolerance * pixelScale, (fast.Pixels - reference.Pixels).abs().max().item<double>(), "pixel gradients");
        var names = network.named_parameters().Select(p => p.name).ToArray();
        for (int i = 0; i < names.Length; i++)
        {
            double weightScale = Math.Max(1e-12, reference.Weights[i].abs().max().item<double>());
            Assert.IsLessThanOrEqualTo(tolerance * weightScale, (fast.Weights[i] - reference.Weights[i]).abs().max().item<double>(), $"gradient of {names[i]}");
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
