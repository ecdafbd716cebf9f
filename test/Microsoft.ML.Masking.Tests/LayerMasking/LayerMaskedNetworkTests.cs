using Microsoft.ML.Masking.LayerMasking.Engine;
using Microsoft.ML.Masking.Tests.TestDoubles;
using TorchSharp;
using static Microsoft.ML.Masking.Tests.LayerMasking.TestNetworks;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.LayerMasking;

/// <summary>The defining properties of layer masking, on random weights and random masks.</summary>
[TestClass]
public sealed class LayerMaskedNetworkTests
{
    public static IEnumerable<object[]> Networks =>
    [
        ["resnet-basic-small-stem", 32],
        ["resnet-bottleneck", 64],
        ["resnext-grouped-small-stem", 32],
        ["torchvision-resnet18", 64],
        ["torchvision-resnet50", 64],
        ["plain-stack", 32],
    ];

    internal static nn.Module Build(string name) => name switch
    {
        "resnet-basic-small-stem" => SmallBasic(),
        "resnet-bottleneck" => SmallBottleneck(),
        "resnext-grouped-small-stem" => SmallGrouped(),
        "torchvision-resnet18" => TorchVisionResNet18(),
        "torchvision-resnet50" => TorchVisionResNet50(),
        "plain-stack" => PlainStack(),
        _ => throw new ArgumentException(name),
    };

    [TestMethod]
    [DynamicData(nameof(Networks))]
    public void AllOnesMaskEqualsPlainForward(string name, int size)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad(); // the inference path (LayerMaskingGradientTests covers the autograd one)
        var network = Build(name);
        var x = Images(3, 3, size, seed: 1);
        var keep = ones(3, size, size);
        var expected = ((nn.Module<Tensor, Tensor>)network).call(x);
        Assert.IsLessThan(100.0, expected.abs().max().item<float>(), "test network has realistic logits");
        // Each path is another float computation than the module's own forward (other kernels, and folding BatchNorm
        // into the weights reorders the arithmetic): equal up to rounding, relative to the logits' size.
        var exact = LayerMaskedNetwork.Create(network, foldBatchNorm: false);
        FloatAssert.AreClose(expected, exact.Forward(x, keep), 2e-5, "fast path against the module's forward");
        FloatAssert.AreClose(expected, exact.ForwardReference(x, keep).Logits, 2e-5, "reference path against the module's forward");
        FloatAssert.AreClose(expected, exact.ForwardPlain(x).Logits, 2e-5, "plain path against the module's forward");
        var folded = LayerMaskedNetwork.Create(network, foldBatchNorm: true);
        FloatAssert.AreClose(expected, folded.Forward(x, keep), 1e-4, "fast path with BatchNorm folded against the module's forward");
    }

    [TestMethod]
    [DynamicData(nameof(Networks))]
    public void OutputIgnoresRemovedPixels(string name, int size)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad(); // the inference path (LayerMaskingGradientTests covers the autograd one)
        var masked = LayerMaskedNetwork.Create(Build(name));
        var x = Images(4, 3, size, seed: 2);
        var keep = PatchMasks(4, size, 8, removed: 0.5, seed: 3).unsqueeze(1);
        // Anything at removed positions: huge values, other images, even NaN and infinity.
        var junk = Images(4, 3, size, seed: 4) * 1000;
        junk[0, 0, 0, 0] = float.NaN;
        junk[1, 1, 2, 3] = float.PositiveInfinity;
        var other = where(keep.gt(0), x, junk);
        if (keep[0, 0, 0, 0].item<float>() == 1) other[0, 0, 0, 0] = x[0, 0, 0, 0];
        Assert.IsLessThanOrEqualTo(1e-5, MaxAbsDiff(masked.Forward(x, keep), masked.Forward(other, keep)), "fast path");
        var reference = masked.ForwardReference(x, keep).Logits;
        var referenceOther = masked.ForwardReference(where(keep.gt(0), x, Images(4, 3, size, seed: 5) * 1000), keep).Logits;
        Assert.IsLessThanOrEqualTo(1e-5, MaxAbsDiff(reference, referenceOther), "reference path");
    }

    [TestMethod]
    [DynamicData(nameof(Networks))]
    public void FastPathEqualsReferenceImplementation(string name, int size)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad(); // the inference path (LayerMaskingGradientTests covers the autograd one)
        var network = Build(name);
        var x = Images(4, 3, size, seed: 6);
        foreach (double removed in new[] { 0.1, 0.5, 0.9 })
        {
            var keep = PatchMasks(4, size, 4, removed, seed: (long)(removed * 100));
            foreach (bool fold in new[] { false, true })
            {
                var masked = LayerMaskedNetwork.Create(network, foldBatchNorm: fold);
                var fast = masked.ForwardWithFeatures(x, keep);
                var reference = masked.ForwardReference(x, keep);
                double scale = Math.Max(1, reference.Logits.abs().max().item<float>());
                Assert.IsLessThanOrEqualTo(1e-4 * scale, MaxAbsDiff(fast.Logits, reference.Logits), $"removed {removed}, fold {fold}");
                if (reference.Features is not null)
                    Assert.IsLessThanOrEqualTo(1e-4 * scale, MaxAbsDiff(fast.Features!, reference.Features), $"features, removed {removed}, fold {fold}");
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(Networks))]
    public void AllZerosMaskGivesTheEmptyFeatureMapOutput(string name, int size)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad(); // the inference path (LayerMaskingGradientTests covers the autograd one)
        var network = Build(name);
        var masked = LayerMaskedNetwork.Create(network);
        var x = Images(2, 3, size, seed: 7);
        var keep = zeros(2, size, size);
        var fast = masked.ForwardWithFeatures(x, keep);
        var reference = masked.ForwardReference(x, keep);
        Assert.IsFalse(fast.Logits.isnan().any().item<bool>(), "no NaN");
        Assert.IsLessThanOrEqualTo(1e-6, MaxAbsDiff(fast.Logits, reference.Logits));
        if (fast.Features is not null)
        {
            // An empty feature map pools to the zero vector, so the classifier sees zeros and returns its bias.
            Assert.AreEqual(0.0, fast.Features.abs().max().item<float>(), 0.0);
            var fc = network.named_modules().Last(m => m.module is TorchSharp.Modules.Linear).module as TorchSharp.Modules.Linear;
            Assert.IsLessThanOrEqualTo(1e-6, MaxAbsDiff(fast.Logits, fc!.bias!.expand(2, -1)));
        }
    }

    [TestMethod]
    public void UnsupportedModuleIsNamed()
    {
        var network = nn.Sequential(("conv", nn.Conv2d(3, 4, 3)), ("shrink", nn.Tanhshrink()));
        var e = Assert.ThrowsExactly<NotSupportedException>(() => LayerMaskedNetwork.Create(network));
        StringAssert.Contains(e.Message, "'shrink'");
        StringAssert.Contains(e.Message, "Tanhshrink");
    }

    [TestMethod]
    public void NonBinaryOrMisshapenMaskIsRejected()
    {
        var masked = LayerMaskedNetwork.Create(SmallBasic());
        var x = Images(2, 3, 32, seed: 8);
        Assert.ThrowsExactly<ArgumentException>(() => masked.Forward(x, full(2, 32, 32, 0.5f)));
        Assert.ThrowsExactly<ArgumentException>(() => masked.Forward(x, ones(2, 16, 16)));
        Assert.ThrowsExactly<ArgumentException>(() => masked.Forward(x, ones(3, 32, 32)));
    }

    [TestMethod]
    public void DoesNotTouchTheCallersTensorsOrTheNetwork()
    {
        var network = SmallBasic();
        var before = network.parameters().Select(p => p.clone()).ToList();
        var masked = LayerMaskedNetwork.Create(network);
        var x = Images(2, 3, 32, seed: 9);
        var xCopy = x.clone();
        var keep = PatchMasks(2, 32, 4, 0.5, seed: 10);
        masked.Forward(x, keep);
        Assert.IsTrue(x.eq(xCopy).all().item<bool>(), "input unchanged");
        foreach (var (p, q) in network.parameters().Zip(before))
            Assert.IsTrue(p.eq(q).all().item<bool>(), "parameters unchanged");
    }
}
