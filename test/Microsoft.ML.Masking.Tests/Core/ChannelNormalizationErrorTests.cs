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

    [TestMethod]
    public void AChannelOrderThatIsNotAPermutationIsNamed()
    {
        var error = Assert.Throws<ArgumentException>(() => new ChannelNormalization([0f, 0f, 0f], [1f, 1f, 1f], [2, 2, 0], null, null));

        Assert.AreEqual("channelOrder", error.ParamName);
        StringAssert.Contains(error.Message, "[2, 2, 0] must be a permutation of 0…2");
    }

    [TestMethod]
    public void AMeanImageOfTheWrongSizeOrForOtherImagesIsNamed()
    {
        var shape = new Microsoft.ML.Masking.Data.ImageShape(2, 3, 4);
        var error = Assert.Throws<ArgumentException>(() => ChannelNormalization.FromMeanImage(new float[23], shape));
        Assert.AreEqual("meanImage", error.ParamName);

        var normalization = ChannelNormalization.FromMeanImage(new float[24], shape);
        using var images = TorchSharp.torch.zeros(1, 2, 4, 3);
        var other = Assert.Throws<ArgumentException>(() => normalization.Apply(images));
        StringAssert.Contains(other.Message, "mean image is 3×4 (height × width); the images are 4×3");
    }
}
