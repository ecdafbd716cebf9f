using System.Text.RegularExpressions;

namespace Microsoft.ML.Masking.Tests;

/// <summary>
/// Every C# block in the README is a marked region of a file in src/Samples, so it compiles with every build and
/// "runs as written" stays true: the region <c>// README Quick start: begin … end</c> is the code under
/// <c>## Quick start</c>, and so on for each section.
/// </summary>
[TestClass]
public sealed partial class ReadmeCodeTests
{
    [GeneratedRegex(@"//\s*README (?<section>.+): begin\s*$")]
    private static partial Regex BeginMarker();

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Masking.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("Masking.sln not found above the test binaries.");
    }

    private static string[] CodeLines(IEnumerable<string> lines) =>
        lines.Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("using ", StringComparison.Ordinal)).ToArray();

    /// <summary>The sample regions, by README section.</summary>
    private static Dictionary<string, (string File, string[] Lines)> SampleRegions(string root)
    {
        var regions = new Dictionary<string, (string, string[])>(StringComparer.Ordinal);
        var samples = Path.Combine(root, "src", "Samples");
        foreach (var file in Directory.EnumerateFiles(samples, "*.cs", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                var match = BeginMarker().Match(lines[i]);
                if (!match.Success)
                    continue;
                string section = match.Groups["section"].Value;
                int end = Array.FindIndex(lines, i + 1, l => l.Trim() == $"// README {section}: end");
                Assert.IsGreaterThan(i, end, $"{Path.GetRelativePath(root, file)}: 'README {section}: begin' has no end marker");
                Assert.IsTrue(regions.TryAdd(section, (Path.GetRelativePath(root, file), CodeLines(lines[(i + 1)..end]))),
                    $"README section '{section}' is marked twice in src/Samples");
                i = end;
            }
        }
        return regions;
    }

    /// <summary>The README's C# blocks, each with the heading of the section it sits in.</summary>
    private static List<(string Section, string[] Lines)> ReadmeBlocks(string root)
    {
        var readme = File.ReadAllLines(Path.Combine(root, "README.md"));
        var blocks = new List<(string, string[])>();
        string section = "";
        for (int i = 0; i < readme.Length; i++)
        {
            if (readme[i].StartsWith("## ", StringComparison.Ordinal))
                section = readme[i][3..].Trim();
            if (!readme[i].StartsWith("```csharp", StringComparison.Ordinal))
                continue;
            int close = Array.FindIndex(readme, i + 1, l => l.StartsWith("```", StringComparison.Ordinal));
            blocks.Add((section, CodeLines(readme[(i + 1)..close])));
            i = close;
        }
        return blocks;
    }

    [TestMethod]
    public void EveryReadmeCodeBlockIsACompiledSampleRegion()
    {
        var root = RepositoryRoot();
        var regions = SampleRegions(root);
        var blocks = ReadmeBlocks(root);
        Assert.IsNotEmpty(blocks, "README has C# blocks");
        Assert.IsTrue(blocks.Any(b => b.Section == "Quick start"), "README has a Quick start with code");

        foreach (var (section, lines) in blocks)
        {
            Assert.IsTrue(regions.TryGetValue(section, out var region),
                $"README section '{section}' shows C# that no '// README {section}: begin' region in src/Samples holds");
            CollectionAssert.AreEqual(region.Lines, lines, $"README section '{section}' and {region.File} differ");
        }
        var unused = regions.Keys.Except(blocks.Select(b => b.Section)).ToArray();
        Assert.IsEmpty(unused, $"src/Samples marks regions for README sections that show no code: {string.Join(", ", unused)}");
    }
}
