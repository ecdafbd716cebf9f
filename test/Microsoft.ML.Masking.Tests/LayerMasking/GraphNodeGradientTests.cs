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
/// The autograd (out-of-place) path through every kind of graph node beyond the ResNet's: element-wise activations
/// (ReLU6, Hardswish, SiLU, GELU, Sigmoid, Hardsigmoid, Tanh), depthwise convolutions, average pooling as a masked
/// mean (padding counted and not), adaptive average pooling to 2×2, squeeze-and-excitation with its masked mean, and a
/// channel concatenation with the AND of its branches' masks (an ONNX file built in the test: no TorchSharp module
/// produces one). For each: the same forward as the inference path, exactly zero gradient on removed pixels even when
/// they hold NaN, gradients on kept pixels equal to central finite differences in float64, and the fast path's
/// gradients equal to those of the literal reference path.
/// </summary>
[TestClass]
public sealed class GraphNodeGradientTests
{
    private const int Size = 16;

    public TestContext TestContext { get; set; } = null!;

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

    private nn.Module<Tensor, Tensor> Build(string name)
    {
        if (name == "node-stack")
        {
            torch.manual_seed(40);
            return NodeStack();
        }
        var b = new OnnxGraphBuilder(3, Size, seed: 42);
        var path = b.Save(OnnxImportTests.ConcatLike(b), Path.Combine(TestFolders.Create(TestContext, "graph-gradients"), "concat.onnx"));
        var (network, _) = OnnxNetwork.Import(path, imageShape: null, tolerance: 1e-4);
        return network;
    }

    /// <summary>One logit per image (a different class each), summed: what a saliency method differentiates.</summary>
    private static Tensor Objective(Tensor logits)
    {
        long classes = logits.shape[1];
        return stack(Enumerable.Range(0, (int)logits.shape[0]).Select(i => logits[i, i % classes]).ToArray()).sum();
    }

    [TestMethod]
    [DataRow("node-stack")]
    [DataRow("onnx-concat")]
    public void TheGraphHoldsTheNodeKindsUnderTest(string name)
    {
        using var network = Build(name);
        var kinds = LayerMaskedNetwork.Create(network).Layers.Select(l => l.GetType()).ToHashSet();
        Type[] expected = name == "node-stack"
            ? [typeof(ActivationNode), typeof(SqueezeExcitationNode), typeof(AveragePoolNode), typeof(AdaptiveAveragePoolNode), typeof(ConvolutionNode)]
            : [typeof(ConcatNode), typeof(MaxPoolNode)];
        foreach (var kind in expected)
            Assert.Contains(kind, kinds, $"{name}: a {kind.Name}");
    }

    [TestMethod]
    [DataRow("node-stack")]
    [DataRow("onnx-concat")]
    public void AutogradPathGivesTheInferencePathsOutputs(string name)
    {
        using var scope = NewDisposeScope();
        using var network = Build(name);
        var x = Images(3, 3, Size, seed: 43);
        var keep = PatchMasks(3, Size, 4, removed: 0.5, seed: 44);
        foreach (bool fold in new[] { true, false })
        {
            var masked = LayerMaskedNetwork.Create(network, foldBatchNorm: fold);
            Tensor inference;
            using (no_grad()) inference = masked.Forward(x, keep);
            var recorded = masked.Forward(x.clone().requires_grad_(true), keep);
            Assert.IsTrue(recorded.requires_grad, "gradients enabled: the logits are part of the graph");
            FloatAssert.AreClose(inference, recorded.detach(), 1e-4, $"{name}, fold {fold}: the autograd path against the inference path");
        }
    }

    [TestMethod]
    [DataRow("node-stack")]
    [DataRow("onnx-concat")]
    public void RemovedPixelsGetExactlyZeroGradientEvenWhenTheyHoldNaN(string name)
    {
        using var scope = NewDisposeScope();
        using var network = Build(name);
        var masked = LayerMaskedNetwork.Create(network);
        var keep = PatchMasks(3, Size, 4, removed: 0.5, seed: 45).unsqueeze(1);
        var x = where(keep.gt(0), Images(3, 3, Size, seed: 46), full(3, 3, Size, Size, float.NaN));
        var input = x.requires_grad_(true);
        Objective(masked.Forward(input, keep)).backward();
        var gradient = input.grad!;
        var removed = keep.expand_as(gradient).eq(0);
        Assert.AreEqual(0f, gradient.masked_select(removed).abs().max().item<float>(), 0f, $"{name}: removed pixels");
        Assert.IsFalse(gradient.isnan().any().item<bool>(), $"{name}: no NaN reaches the gradient");
        Assert.IsGreaterThan(0f, gradient.masked_select(removed.logical_not()).abs().max().item<float>(), $"{name}: kept pixels");
    }

    [TestMethod]
    [DataRow("node-stack")]
    [DataRow("onnx-concat")]
    public void GradientWithRespectToKeptPixelsMatchesFiniteDifferences(string name)
    {
        using var scope = NewDisposeScope();
        // Double precision: central differences with a small step are accurate to ~1e-9 and seldom cross a kink
        // (ReLU6, Hardswish, Hardsigmoid, max-pool).
        using var network = Build(name);
        network.to(ScalarType.Float64);
        var masked = LayerMaskedNetwork.Create(network);
        var x = Images(2, 3, Size, seed: 47).to(ScalarType.Float64);
        var keep = PatchMasks(2, Size, 4, removed: 0.5, seed: 48).unsqueeze(1).to(ScalarType.Float64);

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
        var kept = keep.expand_as(x).reshape(-1);
        var keptPositions = kept.nonzero().reshape(-1);
        double scale = gradient.abs().max().item<double>();
        Assert.IsGreaterThan(0.0, scale, $"{name}: the logit depends on the kept pixels");
        var random = new Random(49);
        for (int trial = 0; trial < 12; trial++)
        {
            Tensor direction;
            if (trial < 8)
            {
                direction = zeros_like(kept);
                direction[keptPositions[random.Next((int)keptPositions.shape[0])].item<long>()] = 1.0;
            }
            else
            {
                direction = randn(kept.shape, dtype: ScalarType.Float64, generator: new Generator((ulong)trial)) * kept;
            }
            direction = direction.reshape(x.shape);
            double numeric = (Value(x + direction * h) - Value(x - direction * h)) / (2 * h);
            double analytic = (gradient * direction).sum().item<double>();
            double magnitude = Math.Max(Math.Abs(analytic), scale * direction.abs().max().item<double>());
            Assert.AreEqual(numeric, analytic, 1e-5 * magnitude,
                $"{name}, trial {trial}: finite difference {numeric} vs autograd {analytic} (tolerance relative to the gradient's scale {magnitude})");
        }
    }

    [TestMethod]
    [DataRow("node-stack")]
    [DataRow("onnx-concat")]
    public void FastAndReferenceGradientsAgreeForPixelsAndWeights(string name)
    {
        using var scope = NewDisposeScope();
        using var network = Build(name);
        network.to(ScalarType.Float64);
        var masked = LayerMaskedNetwork.Create(network);
        var x = Images(2, 3, Size, seed: 50).to(ScalarType.Float64);
        var keep = PatchMasks(2, Size, 4, removed: 0.5, seed: 51);

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
        // (any difference in a mask rule would be of the gradients' order).
        const double tolerance = 1e-7;
        double pixelScale = reference.Pixels.abs().max().item<double>();
        Assert.IsGreaterThan(0.0, pixelScale, $"{name}: pixel gradients are not all zero");
        Assert.IsLessThanOrEqualTo(tolerance * pixelScale, (fast.Pixels - reference.Pixels).abs().max().item<double>(), $"{name}: pixel gradients");
        var names = network.named_parameters().Select(p => p.name).ToArray();
        for (int i = 0; i < names.Length; i++)
        {
            double weightScale = Math.Max(1e-12, reference.Weights[i].abs().max().item<double>());
            Assert.IsLessThanOrEqualTo(tolerance * weightScale, (fast.Weights[i] - reference.Weights[i]).abs().max().item<double>(), $"{name}: gradient of {names[i]}");
        }
    }
}
