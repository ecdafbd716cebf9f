using Microsoft.ML.Masking.LayerMasking.Engine;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Tests.TestDoubles;
using TorchSharp;
using ResNet = Microsoft.ML.Masking.Models.ResNet;
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
                // Beyond the factories' defaults, for the persistence tests.
                "mobilenet-v3-small-10" => new TorchVisionArchitecture(TorchVisionModel.MobileNetV3Small, 10).Build(),
                "mobilenet-v2-0.5" => torchvision.models.mobilenet_v2(num_classes: 5, width_mult: 0.5),
                "resnet18" => torchvision.models.resnet18(num_classes: 5),
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
        // MobileNetV2's channels at width 1 but an expansion of 4 instead of 6 in its second stage.
        long[][] setting = [[1, 16, 1, 1], [4, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]];
        using var modified = torchvision.models.mobilenet_v2(num_classes: 4, inverted_residual_setting: setting);
        var e = Assert.ThrowsExactly<NotSupportedException>(() => TorchVisionArchitecture.Recognise(modified));
        StringAssert.Contains(e.Message, "features.2.conv.0.0.weight");
        Assert.IsNull(TorchVisionArchitecture.Recognise(nn.Sequential(nn.Conv2d(3, 4, 3))), "not a TorchVision classifier");
    }

    [TestMethod]
    [DataRow(TorchVisionModel.MobileNetV3Small, 10, 1.0)]
    [DataRow(TorchVisionModel.MobileNetV3Large, 3, 1.0)]
    [DataRow(TorchVisionModel.MobileNetV2, 4, 0.5)]
    [DataRow(TorchVisionModel.MobileNetV2, 4, 1.4)]
    public void MobileNetsOfAnyClassCountAndWidthAreRecognised(TorchVisionModel model, int classes, double width)
    {
        using var scope = NewDisposeScope();
        using var network = model == TorchVisionModel.MobileNetV2
            ? torchvision.models.mobilenet_v2(num_classes: classes, width_mult: width)
            : new TorchVisionArchitecture(model, classes).Build();
        Assert.AreEqual(new TorchVisionArchitecture(model, classes, width), TorchVisionArchitecture.Recognise(network));
        using var noGrad = no_grad();
        network.eval();
        CollectionAssert.AreEqual(new long[] { 1, classes }, network.call(randn(1, 3, 32, 32)).shape, "the rebuilt head gives one score per class");
    }

    [TestMethod]
    public void AHeaderWrittenBeforeTheWidthMultiplierReadsAsWidthOne()
    {
        var read = System.Text.Json.JsonSerializer.Deserialize<TorchVisionArchitecture>("""{"Model":"MobileNetV2","NumClasses":5}""",
            Microsoft.ML.Masking.Core.Persistence.ModelJson.Options);
        Assert.AreEqual(new TorchVisionArchitecture(TorchVisionModel.MobileNetV2, 5, 1.0), read);
    }

    public static IEnumerable<object[]> TorchVisionResNets =>
    [
        ["resnet18", ResNetArchitecture.ResNet18(numClasses: 5)],
        ["resnext50_32x4d", ResNetArchitecture.ResNet50(numClasses: 3) with { Groups = 32, WidthPerGroup = 4 }],
        ["wide_resnet50_2", ResNetArchitecture.ResNet50(numClasses: 3) with { WidthPerGroup = 128 }],
    ];

    [TestMethod]
    [DynamicData(nameof(TorchVisionResNets))]
    public void ATorchVisionResNetIsRecognisedAsTheResNetWithTheSameLayerMaskedFunction(string name, ResNetArchitecture expected)
    {
        using var scope = NewDisposeScope();
        var network = name == "resnet18" ? Build(name) : name == "resnext50_32x4d"
            ? torchvision.models.resnext50_32x4d(num_classes: 3) : torchvision.models.wide_resnet50_2(num_classes: 3);
        torch.manual_seed(5);
        var recognised = ResNetArchitecture.Recognise(network);
        var draw = torch.rand(3).data<float>().ToArray();
        torch.manual_seed(5);
        CollectionAssert.AreEqual(torch.rand(3).data<float>().ToArray(), draw, "the global random state is restored after the check");
        Assert.AreEqual(expected, recognised);
        if (name != "resnet18")
        {
            network.Dispose();
            return;
        }
        // What loading a saved TorchVision ResNet-18 gives: the library's ResNet with its weights, strictly loaded.
        using var rebuilt = new ResNet(recognised!);
        rebuilt.load_state_dict(network.state_dict());
        rebuilt.eval();
        using var noGrad = no_grad();
        var x = Images(2, 3, 32, seed: 8);
        var keep = PatchMasks(2, 32, 8, removed: 0.5, seed: 9);
        CollectionAssert.AreEqual(LayerMaskedNetwork.Create(network).Forward(x, keep).data<float>().ToArray(),
            LayerMaskedNetwork.Create(rebuilt).Forward(x, keep).data<float>().ToArray(), "the same layer graph: identical layer-masked logits");
        FloatAssert.AreClose(network.call(x), rebuilt.call(x), 1e-5, "the two modules' own forward passes, equal up to rounding");
    }

    [TestMethod]
    public void ADilatedTorchVisionResNetRefusesToSaveNamingTheConvolution()
    {
        using var dilated = torchvision.models.resnet50(num_classes: 3, replace_stride_with_dilation: (false, false, true));
        var e = Assert.ThrowsExactly<NotSupportedException>(() => ResNetArchitecture.Recognise(dilated));
        StringAssert.Contains(e.Message, "'layer4.0.conv2'");
        StringAssert.Contains(e.Message, "dilation");
        Assert.IsNull(ResNetArchitecture.Recognise(Build("vgg11")), "not a TorchVision ResNet");
    }
}
