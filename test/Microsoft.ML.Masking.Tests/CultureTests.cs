using System.Globalization;

namespace Microsoft.ML.Masking.Tests;

/// <summary>
/// The suite runs under de-DE (test.runsettings), so every test that reads a CSV, an SVG, a header or a progress line
/// also checks that the library writes it in the invariant culture. This makes sure that culture is in effect.
/// </summary>
[TestClass]
public sealed class CultureTests
{
    /// <summary>LC_ALL also sets the language of messages: keep the assertions' messages in English, the numbers German.</summary>
    [AssemblyInitialize]
    public static void EnglishMessages(TestContext context) => CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.GetCultureInfo("en-US");

    [TestMethod]
    public void TheSuiteRunsUnderACommaDecimalCulture()
    {
        Assert.AreEqual("de-DE", CultureInfo.CurrentCulture.Name,
            "test.runsettings sets LC_ALL=de_DE.UTF-8 for the test host; is it missing, overridden, or is .NET in invariant-globalization mode?");
        Assert.AreEqual("0,5", 0.5.ToString(CultureInfo.CurrentCulture), "de-DE writes a decimal comma (ICU culture data present)");
        Assert.AreEqual("0,5", 0.5.ToString(), "threads without an explicit culture use it too");
    }
}
