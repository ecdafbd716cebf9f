using Microsoft.ML.Masking.LayerMasking.Engine;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Tests.TestDoubles;
using TorchSharp;
using static Microsoft.ML.Masking.Tests.LayerMasking.TestNetworks;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.LayerMasking;

/// <summary>
/// Layer masking on TorchVision's VGG, AlexNet, MobileNetV2 and MobileNetV3 (random weights, random BatchNorm
/// statistics, small images): the graph engine reads each family's forward pass, masks every layer and runs the
/// fast path and the literal reference path. Each network is built once for the class (VGG and AlexNet carry
/// 60–130 M parameters in their classifiers).
/// </summary>
[TestClass]
public sealed class TorchVisionFamilyTests
{
    private static readonly Dictionary<string, nn.Module<Tensor, Tensor>> Cache = new();

    public static IEnumerable<object[]> Families =>
    [
        ["vgg11", 32],
        ["vgg11-bn", 32],
        ["alexnet", 64],
        ["mobilenet-v2", 32],
        ["mobilenet-v3-small", 64],
        ["mobilenet-v3-large", 32],
    ];

    internal static nn.Module<Tensor, Tensor> Build(string name)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(name, out var known)) return known;
            torch.manual_seed(21);
            nn.Module<Tensor, Tensor> network = name switch
            {
                "vgg11" => torchvision.models.vgg11(num_classes: 5),
                "vgg11-bn" => torchvision.models.vgg11_bn(num_classes: 5),
                "alexnet" => torchvision.models.alexnet(num_classes: 5),
                "mobilenet-v2" => torchvision.models.mobilenet_v2(num_classes: 5),
                "mobilenet-v3-small" => torchvision.models.mobilenet_v3_small(),
                "mobilenet-v3-large" => torchvision.models.mobilenet_v3_large(),
                _ => throw new ArgumentException(name),
            };
            Cache[name] = WithRandomBatchNorm(network, 31);
            return Cache[name];
        }
    }

    [ClassCleanup]
    public static void DisposeNetworks()
    {
        foreach (var network in Cache.Values) network.Dispose();
        Cache.Clear();
    }

    [TestMethod]
    [DynamicData(nameof(Families))]
    public void AllOnesMaskEqualsPlainForward(string name, int size)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var network = Build(name);
        var x = Images(2, 3, size, seed: 1);
        var keep = ones(2, size, size);
        var expected = network.call(x);
        var exact = LayerMaskedNetwork.Create(network, foldBatchNorm: false);
        FloatAssert.AreClose(expected, exact.Forward(x, keep), 2e-5, "fast path against the module's forward");
        FloatAssert.AreClose(expected, exact.ForwardReference(x, keep).Logits, 2e-5, "reference path against the module's forward");
        FloatAssert.AreClose(expected, exact.ForwardPlain(x).Logits, 2e-5, "plain path against the module's forward");
        var folded = LayerMaskedNetwork.Create(network, foldBatchNorm: true);
        FloatAssert.AreClose(expected, folded.Forward(x, keep), 1e-4, "fast path with BatchNorm folded against the module's forward");
        Assert.IsTrue(folded.HasFeatureHead, "the classifier's last Linear is the head");
    }

    [TestMethod]
    [DynamicData(nameof(Families))]
    public void OutputIgnoresRemovedPixels(string name, int size)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var masked = LayerMaskedNetwork.Create(Build(name));
        var x = Images(3, 3, size, seed: 2);
        var keep = PatchMasks(3, size, 8, removed: 0.5, seed: 3).unsqueeze(1);
        var junk = Images(3, 3, size, seed: 4) * 1000;
        junk[0, 0, 0, 0] = float.NaN;
        var other = where(keep.gt(0), x, junk);
        var expected = masked.ForwardWithFeatures(x, keep);
        double scale = Math.Max(1e-3, expected.Logits.abs().max().item<float>());
        Assert.IsLessThanOrEqualTo(1e-5 * scale, MaxAbsDiff(expected.Logits, masked.Forward(other, keep)), "fast path");
        var reference = masked.ForwardReference(x, keep).Logits;
        var referenceOther = masked.ForwardReference(where(keep.gt(0), x, Images(3, 3, size, seed: 5) * 1000), keep).Logits;
        Assert.IsLessThanOrEqualTo(1e-5 * scale, MaxAbsDiff(reference, referenceOther), "reference path");
    }

    [TestMethod]
    [DynamicData(nameof(Families))]
    public void FastPathEqualsReferenceImplementation(string name, int size)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var network = Build(name);
        var x = Images(3, 3, size, seed: 6);
        foreach (double removed in new[] { 0.2, 0.8 })
        {
            var keep = PatchMasks(3, size, 4, removed, seed: (long)(removed * 100));
            foreach (bool fold in new[] { false, true })
            {
                var masked = LayerMaskedNetwork.Create(network, foldBatchNorm: fold);
                var fast = masked.ForwardWithFeatures(x, keep);
                var reference = masked.ForwardReference(x, keep);
                FloatAssert.AreClose(reference.Logits, fast.Logits, 1e-4, $"logits, removed {removed}, fold {fold}");
                FloatAssert.AreClose(reference.Features!, fast.Features!, 1e-4, $"features, removed {removed}, fold {fold}");
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(Families))]
    public void EmptyMaskGivesFiniteEqualOutputs(string name, int size)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var masked = LayerMaskedNetwork.Create(Build(name));
        var x = Images(2, 3, size, seed: 7);
        var keep = zeros(2, size, size);
        var fast = masked.ForwardWithFeatures(x, keep);
        var reference = masked.ForwardReference(x, keep);
        Assert.IsTrue(fast.Logits.isfinite().all().item<bool>(), "finite logits");
        FloatAssert.AreClose(reference.Logits, fast.Logits, 1e-5, "fast against reference");
        // Nothing kept: every image gives the same output, whatever its pixels.
        FloatAssert.AreClose(fast.Logits[0], fast.Logits[1], 1e-6, "two different images, nothing kept");
    }

    [TestMethod]
    [DataRow("mobilenet-v2")]
    [DataRow("mobilenet-v3-small")]
    [DataRow("mobilenet-v3-large")]
    public void EveryBlockOfAMobileNetIsInTheGraph(string name)
    {
        var network = Build(name);
        var layers = LayerMaskedNetwork.Create(network).Layers;
        var modules = network.modules().ToList();
        int squeezeExcitations = modules.Count(m => m is torchvision.SqueezeExcitation);
        // Each SE block's two 1×1 "fc" convolutions are part of its node; every other convolution is a node of its own.
        Assert.AreEqual(modules.Count(m => m is TorchSharp.Modules.Conv2d) - 2 * squeezeExcitations, layers.Count(l => l.GetType().Name == "ConvolutionNode"), "convolutions");
        Assert.AreEqual(squeezeExcitations, layers.Count(l => l.GetType().Name == "SqueezeExcitationNode"), "squeeze-and-excitation blocks");
        Assert.AreEqual(name == "mobilenet-v3-small" ? 9 : name == "mobilenet-v3-large" ? 8 : 0, squeezeExcitations, "torchvision's SE count");
        int residuals = layers.Count(l => l.GetType().Name == "ResidualNode");
        Assert.AreEqual(name switch { "mobilenet-v2" => 10, "mobilenet-v3-small" => 6, _ => 10 }, residuals, "inverted residuals with an identity shortcut");
    }

    [TestMethod]
    public void UnsupportedModuleIsNamedWithItsPath()
    {
        var network = nn.Sequential(
            ("features", nn.Sequential(("conv", nn.Conv2d(3, 4, 3)), ("softmax", nn.Softmax2d()))),
            ("pool", nn.AdaptiveAvgPool2d(1)));
        var e = Assert.ThrowsExactly<NotSupportedException>(() => LayerMaskedNetwork.Create(network));
        StringAssert.Contains(e.Message, "'features.softmax'");
        StringAssert.Contains(e.Message, "Softmax2d");
        var ceil = nn.Sequential(("conv", nn.Conv2d(3, 4, 3)), ("pool", nn.AvgPool2d(2, ceil_mode: true)));
        e = Assert.ThrowsExactly<NotSupportedException>(() => LayerMaskedNetwork.Create(ceil));
        StringAssert.Contains(e.Message, "'pool'");
    }

    [TestMethod]
    [DataRow("vgg11", TorchVisionModel.Vgg11, 5)]
    [DataRow("vgg11-bn", TorchVisionModel.Vgg11BatchNorm, 5)]
    [DataRow("alexnet", TorchVisionModel.AlexNet, 5)]
    [DataRow("mobilenet-v2", TorchVisionModel.MobileNetV2, 5)]
    [DataRow("mobilenet-v3-small", TorchVisionModel.MobileNetV3Small, 1000)]
    [DataRow("mobilenet-v3-large", TorchVisionModel.MobileNetV3Large, 1000)]
    public void EachFamilyIsRecognisedForSavingAndTheRandomStateIsLeftAlone(string name, TorchVisionModel model, int classes)
    {
        var network = Build(name);
        torch.manual_seed(5);
        var recognised = TorchVisionArchitecture.Recognise(network);
        var draw = torch.rand(3).data<float>().ToArray();
        torch.manual_seed(5);
        CollectionAssert.AreEqual(torch.rand(3).data<float>().ToArray(), draw, "the check's candidate network consumed no random numbers");
        Assert.AreEqual(new TorchVisionArchitecture(model, classes), recognised);
    }

    [TestMethod]
    public void AModifiedTorchVisionNetworkRefusesToSaveNamingTheParameter()
    {
        using var narrow = torchvision.models.mobilenet_v2(num_classes: 4, width_mult: 0.5);
        var e = Assert.ThrowsExactly<NotSupportedException>(() => TorchVisionArchitecture.Recognise(narrow));
        StringAssert.Contains(e.Message, "features.0.0.weight");
        Assert.IsNull(TorchVisionArchitecture.Recognise(nn.Sequential(nn.Conv2d(3, 4, 3))), "not a TorchVision classifier");
    }
}
