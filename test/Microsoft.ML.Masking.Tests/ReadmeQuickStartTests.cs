namespace Microsoft.ML.Masking.Tests;

/// <summary>The README's quick start is the quickstart sample's code, so "runs as written" stays true.</summary>
[TestClass]
public sealed class ReadmeQuickStartTests
{
    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Masking.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("Masking.sln not found above the test binaries.");
    }

    private static string[] CodeLines(IEnumerable<string> lines) =>
        lines.Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("using ", StringComparison.Ordinal)).ToArray();

    [TestMethod]
    public void ReadmeQuickStartEqualsTheQuickstartSample()
    {
        var root = RepositoryRoot();
        var readme = File.ReadAllLines(Path.Combine(root, "README.md"));
        int heading = Array.IndexOf(readme, "## Quick start");
        Assert.IsGreaterThanOrEqualTo(0, heading, "README has a Quick start section");
        int open = Array.FindIndex(readme, heading, l => l.StartsWith("```csharp", StringComparison.Ordinal));
        int close = Array.FindIndex(readme, open + 1, l => l.StartsWith("```", StringComparison.Ordinal));
        var fromReadme = CodeLines(readme[(open + 1)..close]);

        var sample = File.ReadAllLines(Path.Combine(root, "src", "Samples", "Commands", "QuickStartCommand.cs"));
        int begin = Array.FindIndex(sample, l => l.Contains("// README quick start: begin", StringComparison.Ordinal));
        int end = Array.FindIndex(sample, l => l.Contains("// README quick start: end", StringComparison.Ordinal));
        var fromSample = CodeLines(sample[(begin + 1)..end]);

        CollectionAssert.AreEqual(fromSample, fromReadme, "README quick start and src/Samples/Commands/QuickStartCommand.cs differ");
    }
}
