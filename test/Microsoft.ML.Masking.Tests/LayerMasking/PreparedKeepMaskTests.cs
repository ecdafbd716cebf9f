using Microsoft.ML.Masking.LayerMasking.Engine;
using static Microsoft.ML.Masking.Tests.LayerMasking.TestNetworks;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.LayerMasking;

/// <summary>Keep-masks prepared once for several passes: the same logits as passing the masks, and no mask work redone.</summary>
[TestClass]
public sealed class PreparedKeepMaskTests
{
    // A residual network (pooled masks, ANDs, padding coefficients) and a stack with a 2×2 adaptive average pool (a
    // mask derived by Derive, which a kept algebra must not re-derive every pass).
    public static IEnumerable<object[]> Networks => [["resnet-basic-small-stem"], ["adaptive-pool-stack"]];

    private static nn.Module Build(string name) => name switch
    {
        "adaptive-pool-stack" => WithRandomBatchNorm(nn.Sequential(
            ("conv", nn.Conv2d(3, 6, 3, padding: 1)),
            ("bn", nn.BatchNorm2d(6)),
            ("act", nn.ReLU()),
            ("strided", nn.Conv2d(6, 6, 3, stride: 2, padding: 1)),
            ("pool", nn.AdaptiveAvgPool2d(2)),
            ("flat", nn.Flatten()),
            ("fc", nn.Linear(24, 3))), 16),
        _ => LayerMaskedNetworkTests.Build(name),
    };

    [TestMethod]
    [DynamicData(nameof(Networks))]
    public void PreparedMasksGiveTheSameLogitsForEveryBatchAndDeriveNothingAfterTheFirst(string name)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var network = LayerMaskedNetwork.Create(Build(name));
        var keep = PatchMasks(4, 32, 4, 0.5, seed: 3);
        using var prepared = LayerMaskedNetwork.Prepare(keep, ScalarType.Float32, CPU);
        long before = prepared.Bytes;
        for (int batch = 0; batch < 3; batch++)
        {
            var images = Images(4, 3, 32, seed: 10 + batch);
            var expected = network.Forward(images, keep);
            var actual = network.ForwardPrepared(images, prepared).Logits;
            // The very same kernels on the very same masks: bit-identical, not merely close.
            Assert.AreEqual(0.0, MaxAbsDiff(expected, actual), $"{name}, batch {batch}");
            if (batch == 0)
            {
                Assert.IsGreaterThan(before, prepared.Bytes, "the first pass derives the mask work and keeps it");
                before = prepared.Bytes;
            }
            else
            {
                Assert.AreEqual(before, prepared.Bytes, "later passes reuse it");
            }
        }
    }

    [TestMethod]
    public void MatchesOnlyTheSameMasksAndRefusesTheWrongUse()
    {
        using var scope = NewDisposeScope();
        var keep = PatchMasks(2, 16, 4, 0.5, seed: 3);
        using var prepared = LayerMaskedNetwork.Prepare(keep, ScalarType.Float32, CPU);
        Assert.IsTrue(prepared.Matches(keep.clone()));
        Assert.IsTrue(prepared.Matches(keep.unsqueeze(1)));
        var other = keep.clone();
        other[1, 0, 0] = 1 - other[1, 0, 0];
        Assert.IsFalse(prepared.Matches(other), "one pixel differs");
        Assert.IsFalse(prepared.Matches(keep[..1]), "another batch size");

        using var network = LayerMaskedNetwork.Create(Build("resnet-basic-small-stem"));
        var images = Images(2, 3, 16, seed: 1);
        var withGradients = Assert.ThrowsExactly<InvalidOperationException>(() => network.ForwardPrepared(images, prepared));
        StringAssert.Contains(withGradients.Message, "no_grad");
        using var noGrad = no_grad();
        var wrongBatch = Assert.ThrowsExactly<ArgumentException>(() => network.ForwardPrepared(Images(3, 3, 16, seed: 1), prepared));
        StringAssert.Contains(wrongBatch.Message, "[2, 1, 16, 16]");
        network.ForwardPrepared(images, prepared);
        using var another = LayerMaskedNetwork.Create(Build("resnet-basic-small-stem"));
        var wrongNetwork = Assert.ThrowsExactly<InvalidOperationException>(() => another.ForwardPrepared(images, prepared));
        StringAssert.Contains(wrongNetwork.Message, "another network");
        Assert.ThrowsExactly<ArgumentException>(() => LayerMaskedNetwork.Prepare(keep * 0.5, ScalarType.Float32, CPU), "values other than 0 and 1");
    }
}
