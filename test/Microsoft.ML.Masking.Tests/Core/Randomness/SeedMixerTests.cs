using Microsoft.ML.Masking.Core.Randomness;

namespace Microsoft.ML.Masking.Tests.Core.Randomness;

/// <summary>The one seed mixer: fixed by its definition, per row, and independent across streams and rows.</summary>
[TestClass]
public sealed class SeedMixerTests
{
    [TestMethod]
    public void SplitMix64MatchesItsPublishedFirstOutput()
    {
        // Steele, Lea and Flood's reference generator started at state 0 first returns 0xE220A8397B1DCDAF.
        Assert.AreEqual(0xE220A8397B1DCDAFUL, new SplitMix64(0).NextUInt64());
    }

    [TestMethod]
    [DataRow(5L, 3L, 0x6EF11C6BE77A60D9UL, 0xDE5D9D20EAE197A5UL)]
    [DataRow(-1L, 0L, 0x540EEB07059B1816UL, 0x0788D61E3C6625E0UL)]
    [DataRow(42L, 1000L, 0x3E0D18900E781253UL, 0xBC61D49D87C730C2UL)]
    public void ItemStatesAreTheShapesDataSetsOriginalDerivation(long seed, long index, ulong state, ulong firstOutput)
    {
        // Values computed independently (Python) from the shapes generator's original formula
        // F(seed·φ ⊕ F(index + c)): moving the mixer to Core must not change a single generated image.
        Assert.AreEqual(state, SeedMixer.ForItem(seed, index));
        var random = SplitMix64.ForItem(seed, index);
        Assert.AreEqual(firstOutput, random.NextUInt64());
    }

    [TestMethod]
    public void RowStatesDependOnEveryCoordinateAndNothingElse()
    {
        ulong reference = SeedMixer.ForRow(7, SeedStream.RemovalOrder, 12, 1, 2);
        Assert.AreEqual(reference, SeedMixer.ForRow(7, SeedStream.RemovalOrder, 12, 1, 2), "a pure function");
        var others = new[]
        {
            SeedMixer.ForRow(8, SeedStream.RemovalOrder, 12, 1, 2),
            SeedMixer.ForRow(7, SeedStream.Noise, 12, 1, 2),
            SeedMixer.ForRow(7, SeedStream.RemovalOrder, 13, 1, 2),
            SeedMixer.ForRow(7, SeedStream.RemovalOrder, 12, 2, 1),
            SeedMixer.ForRow(7, SeedStream.RemovalOrder, 12, 1, 3),
        };
        foreach (ulong other in others)
            Assert.AreNotEqual(reference, other);
        Assert.AreEqual(others.Length, others.Distinct().Count(), "swapping coordinates gives another stream");
    }

    [TestMethod]
    public void LowThirtyTwoBitsOfConsecutiveRowsAreDistinctAndBalanced()
    {
        // torch's CPU generator keeps only the low 32 bits of its seed, so those must differ row by row.
        const int rows = 4096;
        var low = Enumerable.Range(0, rows).Select(r => (uint)SeedMixer.ForRow(0, SeedStream.PatchMask, r)).ToArray();
        Assert.AreEqual(rows, low.Distinct().Count());
        for (int bit = 0; bit < 32; bit++)
        {
            int ones = low.Count(v => (v >> bit & 1) == 1);
            Assert.IsTrue(ones > rows * 0.45 && ones < rows * 0.55, $"bit {bit} is set in {ones} of {rows} rows");
        }
    }

    [TestMethod]
    public void TorchGeneratorsOfTheSameRowDrawTheSameNumbers()
    {
        using var a = SeedMixer.TorchGenerator(3, SeedStream.RemovalOrder, 5, 1);
        using var b = SeedMixer.TorchGenerator(3, SeedStream.RemovalOrder, 5, 1);
        using var c = SeedMixer.TorchGenerator(3, SeedStream.RemovalOrder, 6, 1);
        using var x = TorchSharp.torch.randperm(50, generator: a);
        using var y = TorchSharp.torch.randperm(50, generator: b);
        using var z = TorchSharp.torch.randperm(50, generator: c);
        CollectionAssert.AreEqual(x.data<long>().ToArray(), y.data<long>().ToArray());
        CollectionAssert.AreNotEqual(x.data<long>().ToArray(), z.data<long>().ToArray());
    }

    [TestMethod]
    public void PermutationIsAPermutationFixedByTheState()
    {
        var first = SeedMixer.Random(1, SeedStream.PatchMask, 0).Permutation(20);
        CollectionAssert.AreEquivalent(Enumerable.Range(0, 20).ToArray(), first);
        CollectionAssert.AreEqual(first, SeedMixer.Random(1, SeedStream.PatchMask, 0).Permutation(20));
        CollectionAssert.AreNotEqual(first, SeedMixer.Random(1, SeedStream.PatchMask, 1).Permutation(20));
    }
}
