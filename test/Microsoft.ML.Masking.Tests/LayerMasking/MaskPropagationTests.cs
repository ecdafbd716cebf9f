using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.LayerMasking.Engine;
using Microsoft.ML.Masking.LayerMasking.Engine.Nodes;
using Microsoft.ML.Masking.Models;
using TorchSharp;
using TorchSharp.Modules;
using static Microsoft.ML.Masking.Tests.LayerMasking.TestNetworks;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.LayerMasking;

/// <summary>Mask propagation and neighbour padding on small cases worked out by hand, and proofs of the fast path's shortcuts.</summary>
[TestClass]
public sealed class MaskPropagationTests
{
    private static Tensor Grid(int h, int w, params (int R, int C, float V)[] cells)
    {
        var t = zeros(1, 1, h, w);
        foreach (var (r, c, v) in cells) t[0, 0, r, c] = v;
        return t;
    }

    private static float[,] Values(Tensor t)
    {
        var s = t.reshape(t.shape[^2], t.shape[^1]);
        var result = new float[s.shape[0], s.shape[1]];
        for (int r = 0; r < s.shape[0]; r++)
            for (int c = 0; c < s.shape[1]; c++)
                result[r, c] = s[r, c].item<float>();
        return result;
    }

    private static void AssertGrid(float[,] expected, Tensor actual, double tolerance = 1e-6)
    {
        var a = Values(actual);
        Assert.AreEqual(expected.GetLength(0), a.GetLength(0), "rows");
        Assert.AreEqual(expected.GetLength(1), a.GetLength(1), "columns");
        for (int r = 0; r < a.GetLength(0); r++)
            for (int c = 0; c < a.GetLength(1); c++)
                Assert.AreEqual(expected[r, c], a[r, c], tolerance, $"at ({r},{c})");
    }

    [TestMethod]
    public void NeighbourPaddingFillsOneRingPerIterationWithTheMeanOfKeptNeighbours()
    {
        // Kept: (0,0) = 1 and (0,2) = 3 in a 3×4 image.
        var keep = Grid(3, 4, (0, 0, 1), (0, 2, 1));
        var x = Grid(3, 4, (0, 0, 1), (0, 2, 3), (2, 3, 100)); // 100 sits at a removed pixel and must vanish
        AssertGrid(new float[,]
        {
            { 1, 2, 3, 3 },
            { 1, 2, 3, 3 },
            { 0, 0, 0, 0 },
        }, NeighbourPadding.Pad(x, keep, 1), 1e-4);
        // Second ring: (2,0) sees (1,0)=1 and (1,1)=2 → 1.5; (2,1) sees 1,2,3 → 2; (2,2) sees 2,3,3 → 8/3; (2,3) sees 3,3 → 3.
        AssertGrid(new float[,]
        {
            { 1, 2, 3, 3 },
            { 1, 2, 3, 3 },
            { 1.5f, 2, 8f / 3, 3 },
        }, NeighbourPadding.Pad(x, keep, 2), 1e-4);
    }

    [TestMethod]
    public void ConvolutionMaskIsTheMaxPoolOfTheMaskWithTheConvolutionsGeometry()
    {
        var keep = Grid(7, 7, (3, 3, 1));
        // 3×3, stride 1, padding 1: the 3×3 block around the kept pixel.
        var dense = MaskAlgebra.MaxPoolMask(keep, [3, 3], [1, 1], [1, 1], [1, 1]);
        Assert.AreEqual(9f, dense.sum().item<float>());
        Assert.AreEqual(1f, dense[0, 0, 2, 4].item<float>());
        // Stride 2: output o sees inputs 2o−1..2o+1, so rows/columns 1 and 2 of the 4×4 output.
        var strided = MaskAlgebra.MaxPoolMask(keep, [3, 3], [2, 2], [1, 1], [1, 1]);
        AssertGrid(new float[,] { { 0, 0, 0, 0 }, { 0, 1, 1, 0 }, { 0, 1, 1, 0 }, { 0, 0, 0, 0 } }, strided);
        // Dilation 2 (padding 2): output o sees o−2, o, o+2, so only odd positions see the kept pixel —
        // not the dense 5×5 block a dilation-blind max-pool would give.
        var dilated = MaskAlgebra.MaxPoolMask(keep, [3, 3], [1, 1], [2, 2], [2, 2]);
        Assert.AreEqual(9f, dilated.sum().item<float>());
        foreach (int r in new[] { 1, 3, 5 })
            foreach (int c in new[] { 1, 3, 5 })
                Assert.AreEqual(1f, dilated[0, 0, r, c].item<float>());
    }

    [TestMethod]
    public void ConvolutionOutputIsZeroOutsideItsMaskAndSeesNeighbourPaddedInput()
    {
        // A 3×3 box filter (no bias) over a 1-pixel-kept image: after 3 padding rings the kept outputs average the fill.
        var conv = nn.Conv2d(1, 1, 3, padding: 1, bias: false);
        using (no_grad()) conv.weight!.fill_(1);
        var network = LayerMaskedNetwork.Create(nn.Sequential(("conv", conv)));
        var keep = Grid(5, 5, (2, 2, 1)).squeeze(1);
        var x = Grid(5, 5, (2, 2, 2), (0, 0, 50));
        var y = network.Forward(x, keep);
        // Every pixel within 2 of the centre is filled with 2, so each of the nine kept outputs sums nine 2s.
        var expected = new float[5, 5];
        for (int r = 1; r <= 3; r++) for (int c = 1; c <= 3; c++) expected[r, c] = 18;
        // The fill divides by (count + 1e-5), so each filled 2 is 2·(1 − ~1e-6).
        AssertGrid(expected, y, 1e-3);
        AssertGrid(expected, network.ForwardReference(x, keep).Logits, 1e-3);
    }

    [TestMethod]
    public void BatchNormAndReluAreZeroAtRemovedPositions()
    {
        var bn = nn.BatchNorm2d(1);
        using (no_grad()) { bn.bias!.fill_(5); bn.running_mean!.fill_(1); }
        var network = LayerMaskedNetwork.Create(nn.Sequential(("bn", bn), ("relu", nn.ReLU())));
        var keep = Grid(2, 2, (0, 0, 1), (1, 1, 1)).squeeze(1);
        var x = Grid(2, 2, (0, 0, -10), (0, 1, 3), (1, 0, 3), (1, 1, 2));
        // Kept: relu((x − 1)/√(1+ε) + 5); removed: 0 even though BN's bias alone would give 4.
        var y = network.ForwardReference(x, keep).Logits;
        AssertGrid(new float[,] { { 0, 0 }, { 0, 6 } }, y, 1e-4);
        var fast = network.Forward(x, keep);
        Assert.AreEqual(6f, fast[0, 0, 1, 1].item<float>(), 1e-4);
    }

    [TestMethod]
    public void MaxPoolPoolsTheZeroMaskedInput()
    {
        var network = LayerMaskedNetwork.Create(nn.Sequential(("pool", nn.MaxPool2d(2))));
        var keep = Grid(2, 4, (0, 0, 1), (0, 2, 1), (1, 2, 1)).squeeze(1);
        var x = Grid(2, 4, (0, 0, -1), (0, 1, 9), (1, 0, 9), (1, 1, 9), (0, 2, 2), (1, 2, 4), (0, 3, 9));
        // Left window: only −1 is kept, removed positions count as 0 → 0. Right window: max(2, 4, 0) = 4.
        AssertGrid(new float[,] { { 0, 4 } }, network.ForwardReference(x, keep).Logits);
        AssertGrid(new float[,] { { 0, 4 } }, network.Forward(x, keep));
    }

    [TestMethod]
    public void GlobalAveragePoolIsTheMeanOverKeptPositions()
    {
        var network = LayerMaskedNetwork.Create(nn.Sequential(("gap", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten())));
        var keep = Grid(2, 2, (0, 0, 1), (1, 1, 1)).squeeze(1);
        var x = Grid(2, 2, (0, 0, 1), (0, 1, 2), (1, 0, 3), (1, 1, 4));
        Assert.AreEqual(2.5f, network.Forward(x, keep).item<float>(), 1e-6);
        Assert.AreEqual(2.5f, network.ForwardReference(x, keep).Logits.item<float>(), 1e-6);
        Assert.AreEqual(0f, network.Forward(x, zeros(1, 2, 2)).item<float>(), "empty map pools to zero");
    }

    [TestMethod]
    public void ResidualSumIsKeptOnlyWhereBothBranchesAre()
    {
        var block = new ResidualBlock(ResidualBlockKind.Basic, 2, 2, stride: 1);
        WithRandomBatchNorm(block, 3);
        var network = LayerMaskedNetwork.Create(block);
        var keep = PatchMasks(2, 12, 3, 0.5, seed: 4);
        var x = Images(2, 2, 12, seed: 5);
        var y = network.Forward(x, keep);
        var reference = network.ForwardReference(x, keep).Logits;
        // The main branch's mask grows by two 3×3 convolutions; the identity's does not: the AND is the input mask.
        var outside = keep.unsqueeze(1).expand_as(y).eq(0);
        Assert.AreEqual(0f, reference.masked_select(outside).abs().max().item<float>(), "reference zero outside the input mask");
        var inside = outside.logical_not();
        Assert.IsLessThanOrEqualTo(1e-5, MaxAbsDiff(y.masked_select(inside), reference.masked_select(inside)));
    }

    [TestMethod]
    [DataRow(3, 1, 1, 1)]
    [DataRow(3, 2, 1, 1)]
    [DataRow(3, 1, 2, 2)]
    [DataRow(5, 1, 2, 1)]
    [DataRow(7, 2, 3, 1)]
    [DataRow(3, 2, 3, 3)]
    public void FewerPaddingIterationsGiveIdenticalKeptOutputs(int kernel, int stride, int dilation, int seed)
    {
        int padding = dilation * (kernel - 1) / 2;
        var conv = nn.Conv2d(3, 4, kernel, stride: stride, padding: padding, dilation: dilation);
        var network = nn.Sequential(("conv", conv));
        var node = new ConvolutionNode("conv", conv, null, foldBatchNorm: false);
        Assert.AreEqual(Math.Min(kernel, (kernel - 1) * dilation), node.FastIterations);
        var masked = LayerMaskedNetwork.Create(network);
        using var noGrad = no_grad();
        var x = Images(3, 3, 24, seed);
        foreach (double removed in new[] { 0.3, 0.7 })
        {
            var keep = PatchMasks(3, 24, 3, removed, seed + 10);
            Assert.IsLessThanOrEqualTo(1e-5, MaxAbsDiff(masked.Forward(x, keep), masked.ForwardReference(x, keep).Logits));
        }
    }

    [TestMethod]
    public void EachResNetStageComputesItsPaddingCoefficientsOnce()
    {
        var network = SmallBasic();
        using var masks = new MaskAlgebra(inPlace: true);
        var keep = PatchMasks(2, 32, 4, 0.5, seed: 6).unsqueeze(1);
        var graph = NetworkGraph.Compile(network, foldBatchNorm: true);
        using (no_grad())
            graph.Fast(new MaskedActivation(Images(2, 3, 32, 7) * keep, masks.Root(keep), clean: true), masks, inputShared: false);
        // [1, 2, 1] Basic blocks = 8 3×3 convolutions + the 3×3 stem = 9 padded convolutions. Each stage needs
        // coefficients for its mask and its once-dilated mask, the first block of a strided stage one more for the
        // incoming mask: stem 1, stage 1 {m, dilate m} 1 new, stage 2 {incoming, m, dilate m} 3, stage 3 3 → 8 < 9,
        // and the count stays the same however many blocks a stage has.
        Assert.IsLessThan(9, masks.PaddingPlansComputed);
        Assert.IsGreaterThan(0, masks.PaddingPlansComputed, "the masks were padded at all");
    }

    [TestMethod]
    public void FastBoxSumsEqualTheAveragePoolInEveryLayout()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var activations = Images(4, 16, 12, seed: 40);
        var expected = NeighbourPadding.BoxSum(activations);
        // Channels-first (separable shifted sums) and channels-last (depthwise ones convolution): the same nine terms.
        Assert.IsLessThanOrEqualTo(1e-5, MaxAbsDiff(BoxSums.Box3x3(activations), expected), "channels-first");
        var channelsLast = ChannelsLast.Of(activations);
        Assert.IsTrue(ChannelsLast.IsChannelsLast(channelsLast));
        Assert.IsLessThanOrEqualTo(1e-5, MaxAbsDiff(BoxSums.Box3x3(channelsLast), expected), "channels-last");
        // 0/1 masks sum to small integers, exact in any order.
        var mask = PatchMasks(4, 12, 2, 0.5, seed: 41).unsqueeze(1);
        Assert.AreEqual(0.0, MaxAbsDiff(BoxSums.Box3x3(mask), NeighbourPadding.BoxSum(mask)), "one-channel mask, exactly");
    }

    [TestMethod]
    public void AnAllKeptMaskPoolsToAllKeptExactlyWhenEveryWindowReachesTheInput()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ones = torch.ones(1, 1, 11, 11);
        int reaching = 0;
        foreach (long k in new long[] { 1, 2, 3, 5, 7 })
            foreach (long stride in new long[] { 1, 2, 3 })
                foreach (long dilation in new long[] { 1, 2 })
                    for (long padding = 0; padding <= (k - 1) * dilation; padding++)
                    {
                        if ((11 + 2 * padding - dilation * (k - 1) - 1) < 0) continue;
                        var pooled = MaskAlgebra.MaxPoolMask(ones, [k, k], [stride, stride], [padding, padding], [dilation, dilation]);
                        bool allOnes = pooled.min().item<float>() == 1f;
                        bool predicted = MaskAlgebra.WindowsAlwaysReachTheInput([k, k], [padding, padding], [dilation, dilation]);
                        // The shortcut may only be taken when the pooled mask really is all ones.
                        if (predicted) Assert.IsTrue(allOnes, $"k {k}, stride {stride}, padding {padding}, dilation {dilation}");
                        if (predicted) reaching++;
                    }
        Assert.IsGreaterThan(20, reaching, "the condition covers the usual geometries");
        Assert.IsTrue(MaskAlgebra.WindowsAlwaysReachTheInput([7, 7], [3, 3], [1, 1]), "ResNet stem");
        Assert.IsTrue(MaskAlgebra.WindowsAlwaysReachTheInput([3, 3], [2, 2], [2, 2]), "dilated 3×3");
        Assert.IsFalse(MaskAlgebra.WindowsAlwaysReachTheInput([3, 3], [2, 2], [1, 1]), "padding wider than the half-kernel: corner windows see only padding");
    }
}
