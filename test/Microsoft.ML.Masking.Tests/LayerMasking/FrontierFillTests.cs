using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.LayerMasking.Engine;
using Microsoft.ML.Masking.Tests.TestDoubles;
using static Microsoft.ML.Masking.Tests.LayerMasking.TestNetworks;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.LayerMasking;

/// <summary>The CPU frontier fill against the reference recurrence of neighbour padding (<see cref="NeighbourPadding.Pad"/>).</summary>
[TestClass]
public sealed class FrontierFillTests
{
    private static Tensor Filled(Tensor x, Tensor keep, int iterations, bool channelsLast = false)
    {
        var clean = x * keep;
        if (channelsLast)
        {
            // Channels contiguous: the vector path, with a remainder when C is not a multiple of the vector width.
            clean = ChannelsLast.Of(clean);
            Assert.IsTrue(ChannelsLast.IsChannelsLast(clean));
        }
        FrontierFill.Plan(keep, iterations).Apply(clean);
        return clean;
    }

    [TestMethod]
    public void TheFillEqualsTheRecurrenceInEveryLayoutForEveryIterationCount()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // Patches of 3 on a 13×13 map (a partial patch at the border), a third, half and 90 % removed; 3 and 20 channels.
        foreach (long channels in new long[] { 3, 20 })
            foreach (double removed in new[] { 0.3, 0.5, 0.9 })
            {
                var keep = PatchMasks(4, 13, 3, removed, seed: 50 + (long)(removed * 10)).unsqueeze(1);
                var x = Images(4, channels, 13, seed: 60 + channels);
                for (int iterations = 1; iterations <= 7; iterations++)
                {
                    var expected = NeighbourPadding.Pad(x, keep, iterations);
                    string why = $"{channels} channels, {removed:P0} removed, {iterations} iterations";
                    FloatAssert.AreClose(expected, Filled(x, keep, iterations), 1e-6, why + ", channels-first");
                    FloatAssert.AreClose(expected, Filled(x, keep, iterations, channelsLast: true), 1e-6, why + ", channels-last");
                }
            }
    }

    [TestMethod]
    public void KeptValuesAreUntouchedAndPositionsOutOfReachStayZero()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // One kept pixel in the corner of a 9×9 map: 2 iterations fill the 3×3 block around it and nothing else.
        var keep = zeros(1, 1, 9, 9);
        keep[0, 0, 0, 0] = 1f;
        var x = Images(1, 2, 9, seed: 70);
        var filled = Filled(x, keep, 2);
        Assert.AreEqual(x[0, 1, 0, 0].item<float>(), filled[0, 1, 0, 0].item<float>(), "the kept value, bit for bit");
        // Distance 1: the mean of the kept pixel alone (up to ε); distance 2 averages the kept pixel and distance-1 fills.
        FloatAssert.AreClose(x[0, 1, 0, 0].item<float>(), filled[0, 1, 1, 1].item<float>(), 1e-4,
            "a distance-1 fill next to one kept pixel is that pixel's value (up to the padding's ε)");
        Assert.AreEqual(9.0, filled[0, 0].ne(0).sum().item<long>(), "kept + 8 fills at distance ≤ 2");
        Assert.AreEqual(0.0, filled[.., .., 3.., ..].abs().max().item<float>(), "rows at distance 3 and more");
    }

    [TestMethod]
    public void AnImageWithNothingKeptOrNothingRemovedIsLeftAsItIs()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var keep = cat([zeros(1, 1, 6, 6), ones(1, 1, 6, 6)], 0);
        var x = Images(2, 3, 6, seed: 71) * keep;
        var plan = FrontierFill.Plan(keep, 3);
        Assert.AreEqual(0L, plan.FilledPositions);
        var before = x.clone();
        plan.Apply(x);
        Assert.AreEqual(0.0, MaxAbsDiff(before, x));
    }

    [TestMethod]
    public void AViewIntoALargerTensorIsFilledWhereItLies()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // The storage offset and strides of a narrowed view must be honoured, and nothing outside it written.
        var keep = PatchMasks(2, 8, 2, 0.5, seed: 72).unsqueeze(1);
        var big = zeros(2, 5, 8, 8);
        var view = big.narrow(1, 1, 3);
        var x = Images(2, 3, 8, seed: 73) * keep;
        view.copy_(x);
        FrontierFill.Plan(keep, 2).Apply(view);
        FloatAssert.AreClose(NeighbourPadding.Pad(x, keep, 2), view, 1e-6, "the narrowed view");
        Assert.AreEqual(0.0, big.narrow(1, 0, 1).abs().max().item<float>(), "channel before the view");
        Assert.AreEqual(0.0, big.narrow(1, 4, 1).abs().max().item<float>(), "channel after the view");
    }
}
