namespace Microsoft.ML.Masking.Tests.TestDoubles;

/// <summary>Fresh folders for files a test writes, under the run's results folder so they are kept with the results.</summary>
internal static class TestFolders
{
    /// <summary>Creates an empty folder <c>RESULTS/purpose/GUID</c>.</summary>
    public static string Create(TestContext context, string purpose)
    {
        var folder = Path.Combine(context.TestRunResultsDirectory ?? Path.GetTempPath(), purpose, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }
}
