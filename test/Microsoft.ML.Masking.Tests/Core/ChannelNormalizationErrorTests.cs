using Microsoft.ML.Masking.Core;

namespace Microsoft.ML.Masking.Tests.Core;

[TestClass]
public sealed class ChannelNormalizationErrorTests
{
    [TestMethod]
    public void ANonPositiveDeviationIsNamedWithItsValueInTheInvariantCulture()
    {
        // The suite runs under de-DE: a culture-formatted message would say "-0,5".
        var error = Assert.Throws<ArgumentException>(() => new ChannelNormalization([0.5f, 0.5f], [0.25f, -0.5f]));

        Assert.AreEqual("standardDeviation", error.ParamName);
        StringAssert.Contains(error.Message, "standardDeviation[1] is -0.5;");
    }

    [TestMethod]
    public void AnInfiniteMeanIsNamedWithItsIndex()
    {
        var error = Assert.Throws<ArgumentException>(() => new ChannelNormalization([0.5f, float.PositiveInfinity], [1f, 1f]));

        Assert.AreEqual("mean", error.ParamName);
        StringAssert.Contains(error.Message, "mean[1] is Infinity;");
    }
}
