using System.Reflection;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Masking.Internal;

/// <summary>
/// Refuses to run against an ML.NET release this build was not tested with. The code in this folder compiles against
/// ML.NET internals, which can change in any release without notice; ML.NET's assemblies all carry assembly version
/// 1.0.0.0, so the runtime would load any release and a moved member would surface later as a
/// <see cref="MissingMethodException"/> in the middle of a save or load. Every entry point of this folder
/// (<see cref="CatalogEnvironment"/>, <see cref="ModelContentWriter"/>, <see cref="ModelContentReader"/>) calls
/// <see cref="EnsureSupported"/> first, so the mismatch is reported once, clearly, before any internal is touched.
/// </summary>
/// <remarks>
/// The release a build compiled against is stamped into the assembly by the build
/// (<c>[assembly: AssemblyMetadata("MLNetVersion", ...)]</c>, from the MLNetVersion build property); the release loaded
/// is read from the informational version of Microsoft.ML.Core and Microsoft.ML.Data. They must be equal. A process
/// can accept an untested release at its own risk with the AppContext switch <see cref="AllowUntestedSwitch"/>.
/// </remarks>
internal static class MLNetVersionGuard
{
    /// <summary>AppContext switch that turns the check off (e.g. to try a patch release before it is tested).</summary>
    public const string AllowUntestedSwitch = "Microsoft.ML.Masking.AllowUntestedMLNetVersion";

    /// <summary>Key of the assembly metadata holding the ML.NET version this assembly was compiled against.</summary>
    public const string CompiledVersionKey = "MLNetVersion";

    /// <summary>Key of the assembly metadata listing every ML.NET version the sources are tested with.</summary>
    public const string TestedVersionsKey = "MLNetTestedVersions";

    // Computed once: the loaded assemblies cannot change within a process.
    private static readonly Lazy<string?> s_error = new(() => Check(
        Metadata(CompiledVersionKey),
        Metadata(TestedVersionsKey),
        ReleaseOf(typeof(IHostEnvironment).Assembly),
        ReleaseOf(typeof(MLContext).Assembly)));

    /// <summary>Throws <see cref="NotSupportedException"/> when the loaded ML.NET is not the release this build was tested with.</summary>
    public static void EnsureSupported()
    {
        if (s_error.Value is { } error && !(AppContext.TryGetSwitch(AllowUntestedSwitch, out bool allow) && allow))
            throw new NotSupportedException(error);
    }

    /// <summary>
    /// The error for the given versions, or null when they match. <paramref name="loadedCore"/> and
    /// <paramref name="loadedData"/> are the releases of Microsoft.ML.Core and Microsoft.ML.Data in the process.
    /// </summary>
    internal static string? Check(string? compiledAgainst, string? testedVersions, string? loadedCore, string? loadedData)
    {
        string tested = string.Join(", ", (testedVersions ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        if (string.IsNullOrEmpty(compiledAgainst))
            return "Microsoft.ML.Masking carries no MLNetVersion stamp, so the ML.NET it was built for is unknown; build it with the repository's Directory.Build.props.";
        if (loadedCore == compiledAgainst && loadedData == compiledAgainst)
            return null;
        string loaded = loadedCore == loadedData
            ? $"ML.NET {loadedCore ?? "(unknown version)"}"
            : $"Microsoft.ML.Core {loadedCore ?? "(unknown version)"} with Microsoft.ML.Data {loadedData ?? "(unknown version)"}";
        return $"Microsoft.ML.Masking {ReleaseOf(typeof(MLNetVersionGuard).Assembly)} was built and tested against ML.NET {compiledAgainst}, " +
               $"but this process loaded {loaded}. The library uses ML.NET internals for model persistence, which change between " +
               $"releases, so it runs only on the ML.NET it was built for. Reference Microsoft.ML {compiledAgainst} " +
               $"(and Microsoft.ML.ImageAnalytics {compiledAgainst}), or build Microsoft.ML.Masking from source for another tested " +
               $"version (tested: {tested}; `./build.sh test-mlnet VERSION`). To run anyway at your own risk, set the AppContext " +
               $"switch '{AllowUntestedSwitch}' to true.";
    }

    /// <summary>The release of <paramref name="assembly"/>: its informational version without the source-revision suffix.</summary>
    internal static string? ReleaseOf(Assembly assembly)
    {
        string? informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (string.IsNullOrEmpty(informational))
            return null;
        int plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? informational : informational[..plus];
    }

    private static string? Metadata(string key) =>
        typeof(MLNetVersionGuard).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value;
}
