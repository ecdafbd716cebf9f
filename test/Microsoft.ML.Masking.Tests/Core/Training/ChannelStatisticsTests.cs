using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Core.Training;

/// <summary>The trainer's measured normalisation, computed in chunks so that the training set is never copied whole.</summary>
[TestClass]
public sealed class ChannelStatisticsTests
{
    [TestMethod]
    [DataRow(1)]
    [DataRow(3)]
    public void MeasuringInChunksGivesTheWholeTensorStatistics(int channels)
    {
        using var generator = new Generator(7);
        using var images = rand([2500, channels, 11, 13], generator: generator) * 3f - 1f; // more than two chunks
        var measured = ChannelNormalization.Measure(images);

        // The former computation: every channel at once, from a transposed double copy of the whole tensor.
        using var perChannel = images.transpose(0, 1).reshape(channels, -1).to(ScalarType.Float64);
        using var mean = perChannel.mean([1]);
        using var std = perChannel.std(1, unbiased: false);
        // Another summation order in double precision: equal to well below float resolution.
        for (int c = 0; c < channels; c++)
        {
            Assert.AreEqual(mean.data<double>()[c], measured.Mean[c], 1e-6 * Math.Abs(mean.data<double>()[c]), $"mean of channel {c}");
            Assert.AreEqual(std.data<double>()[c], measured.StandardDeviation[c], 1e-6 * std.data<double>()[c], $"deviation of channel {c}");
        }
    }

    [TestMethod]
    public void AConstantChannelGetsDeviationOne()
    {
        using var images = ones([4, 2, 3, 3]);
        var measured = ChannelNormalization.Measure(images);
        CollectionAssert.AreEqual(new[] { 1f, 1f }, measured.Mean.ToArray());
        CollectionAssert.AreEqual(new[] { 1f, 1f }, measured.StandardDeviation.ToArray());
    }
}
