using Microsoft.ML.Masking.Core.Segmentation;


namespace Microsoft.ML.Masking.Tests.Core.Segmentation;

/// <summary>Segment maps: patches, user ids, and SLIC superpixels partition the image.</summary>
[TestClass]
public sealed class SegmentationTests
{
    /// <summary>Every pixel has one id in 0…n−1, every id is used, and (optionally) every segment is 4-connected.</summary>
    private static void AssertPartition(SegmentMap map, bool connected)
    {
        var labels = map.Labels.ToArray();
        Assert.AreEqual(map.Height * map.Width, labels.Length);
        Assert.IsTrue(labels.All(l => l >= 0 && l < map.SegmentCount), "ids in range");
        CollectionAssert.AreEquivalent(Enumerable.Range(0, map.SegmentCount).ToArray(), labels.Distinct().ToArray(), "every id used");
        Assert.AreEqual(map.Height * map.Width, map.SegmentSizes().Sum());
        if (!connected) return;
        for (int s = 0; s < map.SegmentCount; s++)
        {
            int start = Array.IndexOf(labels, s);
            var seen = new HashSet<int> { start };
            var stack = new Stack<int>([start]);
            while (stack.Count > 0)
            {
                int p = stack.Pop(), y = p / map.Width, x = p % map.Width;
                foreach (int q in new[] { x > 0 ? p - 1 : -1, x < map.Width - 1 ? p + 1 : -1, y > 0 ? p - map.Width : -1, y < map.Height - 1 ? p + map.Width : -1 })
                    if (q >= 0 && labels[q] == s && seen.Add(q)) stack.Push(q);
            }
            Assert.AreEqual(map.SegmentSizes()[s], seen.Count, $"segment {s} is connected");
        }
    }

    private static float[] NoisyImage(int channels, int height, int width, int seed)
    {
        var random = new Random(seed);
        var image = new float[channels * height * width];
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                    image[(c * height + y) * width + x] = (float)(0.5 + 0.3 * Math.Sin(x / 3.0 + c) * Math.Cos(y / 5.0) + 0.1 * random.NextDouble());
        return image;
    }

    [TestMethod]
    public void PatchesTileTheImageIncludingNarrowerEdges()
    {
        var map = SegmentMap.Patches(10, 7, 4);
        AssertPartition(map, connected: true);
        Assert.AreEqual(3 * 2, map.SegmentCount);
        CollectionAssert.AreEqual(new[] { 16, 12, 16, 12, 8, 6 }, map.SegmentSizes());
    }

    [TestMethod]
    public void UserIdsAreRenumberedInOrderOfAppearance()
    {
        var map = SegmentMap.FromIds([7, 7, 3, 100, 3, 7], 2, 3);
        CollectionAssert.AreEqual(new[] { 0, 0, 1, 2, 1, 0 }, map.Labels.ToArray());
        Assert.AreEqual(3, map.SegmentCount);
        CollectionAssert.AreEqual(new[] { 7.0 / 3, 3.5, 4 }, map.SegmentMeans([1, 2, 3, 4, 4, 4]));
    }

    [TestMethod]
    public void UserIdsMustBeNonNegativeWholeNumbers()
    {
        foreach (float bad in new[] { -1f, 0.5f, float.NaN })
            StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => SegmentMap.FromIds([0, bad, 1, 1], 2, 2)).Message, "non-negative whole numbers");
        Assert.ThrowsExactly<ArgumentException>(() => SegmentMap.FromIds([0, 1, 1], 2, 2));
    }

    [TestMethod]
    public void SlicSegmentsPartitionTheImageIntoConnectedSuperpixels()
    {
        foreach (var (channels, height, width, count) in new[] { (3, 32, 32, 16), (1, 28, 28, 49), (3, 20, 37, 10), (3, 16, 16, 1), (1, 9, 9, 81) })
        {
            var map = SlicSuperpixels.Segment(NoisyImage(channels, height, width, 1), channels, height, width, count);
            AssertPartition(map, connected: true);
            Assert.IsTrue(map.SegmentCount >= Math.Max(1, count / 2) && map.SegmentCount <= 2 * count,
                $"{channels}×{height}×{width}: asked {count}, got {map.SegmentCount}");
        }
    }

    [TestMethod]
    public void SlicIsDeterministicAndIndependentOfThePixelScale()
    {
        var image = NoisyImage(3, 24, 24, 2);
        var a = SlicSuperpixels.Segment(image, 3, 24, 24, 20);
        var b = SlicSuperpixels.Segment(image, 3, 24, 24, 20);
        var bytes = SlicSuperpixels.Segment(image.Select(v => v * 255f).ToArray(), 3, 24, 24, 20);
        CollectionAssert.AreEqual(a.Labels.ToArray(), b.Labels.ToArray());
        CollectionAssert.AreEqual(a.Labels.ToArray(), bytes.Labels.ToArray());
    }

    [TestMethod]
    public void SlicFollowsStrongColourEdges()
    {
        // A red disc on a blue background: no superpixel may mix disc and background pixels.
        const int side = 32;
        var image = new float[3 * side * side];
        var disc = new bool[side * side];
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
            {
                int p = y * side + x;
                disc[p] = (y - 13.5) * (y - 13.5) + (x - 17.5) * (x - 17.5) < 81;
                image[p] = disc[p] ? 0.9f : 0.1f;
                image[2 * side * side + p] = disc[p] ? 0.1f : 0.8f;
            }
        var map = SlicSuperpixels.Segment(image, 3, side, side, 25);
        var labels = map.Labels.ToArray();
        for (int s = 0; s < map.SegmentCount; s++)
        {
            var inside = Enumerable.Range(0, labels.Length).Where(p => labels[p] == s).Select(p => disc[p]).Distinct().Count();
            Assert.AreEqual(1, inside, $"superpixel {s} straddles the disc's edge");
        }
    }

    [TestMethod]
    public void SlicRejectsBadInput()
    {
        var image = NoisyImage(1, 8, 8, 3);
        Assert.ThrowsExactly<ArgumentException>(() => SlicSuperpixels.Segment(image.AsSpan(1), 1, 8, 8, 4));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SlicSuperpixels.Segment(image, 1, 8, 8, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SlicSuperpixels.Segment(image, 1, 8, 8, 65));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SlicSuperpixels.Segment(image, 1, 8, 8, 4, compactness: 0));
        image[5] = float.NaN;
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => SlicSuperpixels.Segment(image, 1, 8, 8, 4)).Message, "finite");
    }
}
