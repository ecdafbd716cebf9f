namespace Microsoft.ML.Masking.Tests;

[TestClass]
public sealed class SmokeTests
{
    [TestMethod]
    public void TorchInitialises() => Assert.AreEqual(2L, TorchSharp.torch.ones(2).shape[0]);
}
