using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Core.Training;

/// <summary>The trainer's measured normalisation, computed a channel at a time to avoid copying the whole training set.</summary>
[TestClass]
public sealed class ChannelStatisticsTests
{
    [TestMethod]
    [DataRow(1)]
    [DataRow(3)]
    public void MeasuringOneChannelAtATimeGivesTheWholeTensorStatisticsBitForBit(int channels)
    {
        using var generator = new Generator(7);
        using var images = rand([37, channels, 11, 13], generator: generator) * 3f - 1f;
        var measured = ChannelNormalization.Measure(images);

        // The former computation: every channel at once, from a transposed double copy of the whole tensor.
        using var perChannel = images.transpose(0, 1).reshape(channels, -1).to(ScalarType.Float64);
        using var mean = perChannel.mean([1]);
        using var std = perChannel.std(1, unbiased: false);
        CollectionAssert.AreEqual(mean.data<double>().Select(m => (float)m).ToArray(), measured.Mean.ToArray());
        CollectionAssert.AreEqual(std.data<double>().Select(s => (float)s).ToArray(), measured.StandardDeviation.ToArray());
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
