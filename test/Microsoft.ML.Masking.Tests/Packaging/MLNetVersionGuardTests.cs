using System.Reflection;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Masking.Tests.Packaging;

[TestClass]
public sealed class MLNetVersionGuardTests
{
    private const string Tested = "5.0.1;6.0.0";

    private static string? Stamp(Assembly assembly, string key) =>
        assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value;

    [TestMethod]
    public void MatchingReleaseIsAccepted() =>
        Assert.IsNull(MLNetVersionGuard.Check("6.0.0", Tested, "6.0.0", "6.0.0"));

    [TestMethod]
    public void OtherReleaseIsRefusedWithAMessageNamingBothAndTheTestedOnes()
    {
        string? error = MLNetVersionGuard.Check("6.0.0", Tested, "5.2.0", "5.2.0");

        Assert.IsNotNull(error);
        StringAssert.Contains(error, "against ML.NET 6.0.0");
        StringAssert.Contains(error, "loaded ML.NET 5.2.0");
        StringAssert.Contains(error, "tested: 5.0.1, 6.0.0");
        StringAssert.Contains(error, MLNetVersionGuard.AllowUntestedSwitch);
    }

    [TestMethod]
    public void ReleaseTestedByAnotherBuildIsStillRefused() =>
        // 5.0.1 is tested, but with a build compiled against 5.0.1: the internals this one calls are 6.0.0's.
        Assert.IsNotNull(MLNetVersionGuard.Check("6.0.0", Tested, "5.0.1", "5.0.1"));

    [TestMethod]
    public void MixedCoreAndDataReleasesAreRefusedNamingEach()
    {
        string? error = MLNetVersionGuard.Check("6.0.0", Tested, "6.0.0", "5.0.1");

        Assert.IsNotNull(error);
        StringAssert.Contains(error, "Microsoft.ML.Core 6.0.0 with Microsoft.ML.Data 5.0.1");
    }

    [TestMethod]
    public void MissingStampIsRefused() =>
        Assert.IsNotNull(MLNetVersionGuard.Check(null, Tested, "6.0.0", "6.0.0"));

    [TestMethod]
    public void ReleaseDropsTheSourceRevision() =>
        // ML.NET's informational version is "6.0.0+<commit>"; the guard compares the release part.
        Assert.AreEqual(MLNetVersionGuard.ReleaseOf(typeof(IHostEnvironment).Assembly),
            typeof(IHostEnvironment).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0]);

    [TestMethod]
    public void ThisProcessRunsTheMLNetTheBuildSelected()
    {
        // The test assembly and the library are stamped from the same MLNetVersion build property, so this fails if
        // `-p:MLNetVersion=...` did not reach the restore (the suite would then test another ML.NET than it claims).
        string? selected = Stamp(typeof(MLNetVersionGuardTests).Assembly, MLNetVersionGuard.CompiledVersionKey);
        Assert.IsNotNull(selected);
        Assert.AreEqual(selected, Stamp(typeof(MLNetVersionGuard).Assembly, MLNetVersionGuard.CompiledVersionKey));
        Assert.AreEqual(selected, MLNetVersionGuard.ReleaseOf(typeof(IHostEnvironment).Assembly));
        Assert.AreEqual(selected, MLNetVersionGuard.ReleaseOf(typeof(MLContext).Assembly));
        StringAssert.Contains(";" + Stamp(typeof(MLNetVersionGuard).Assembly, MLNetVersionGuard.TestedVersionsKey) + ";", ";" + selected + ";");
        MLNetVersionGuard.EnsureSupported();
    }
}
