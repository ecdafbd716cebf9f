using Microsoft.ML.Masking.Models;

namespace Microsoft.ML.Masking.Tests.Models;

[TestClass]
public sealed class ResNetArchitectureEqualityTests
{
    [TestMethod]
    public void ArchitecturesWithTheSameLayersAreEqualAndHashAlike()
    {
        var a = ResNetArchitecture.ResNet18(numClasses: 10, smallImageStem: true);
        var b = ResNetArchitecture.ResNet18(numClasses: 10, smallImageStem: true);

        Assert.AreNotSame(a.Layers, b.Layers);
        Assert.AreEqual(a, b);
        Assert.IsTrue(a == b);
        Assert.AreEqual(a.GetHashCode(), b.GetHashCode());
        Assert.AreEqual(a, ResNetArchitecture.FromJson(a.ToJson()), "a JSON round trip gives an equal record");
    }

    [TestMethod]
    public void ArchitecturesThatDifferInLayersOrAnotherFieldAreNotEqual()
    {
        var basic = new ResNetArchitecture { Layers = [1, 1, 1], BaseWidth = 16 };

        Assert.AreNotEqual(basic, basic with { Layers = [1, 1, 2] });
        Assert.AreNotEqual(basic, basic with { Layers = [1, 1] });
        Assert.AreNotEqual(basic, basic with { BaseWidth = 32 });
        Assert.AreNotEqual(basic, basic with { SmallImageStem = true });
        Assert.IsFalse(basic.Equals(null));
    }
}
