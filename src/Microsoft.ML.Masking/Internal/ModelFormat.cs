using Microsoft.ML;

namespace Microsoft.ML.Masking.Internal;

/// <summary>
/// The identity a transformer writes into its model.zip entry, i.e. ML.NET's (internal) <see cref="VersionInfo"/>:
/// an 8-character model signature, format versions, the loader signature registered with
/// <c>[assembly: LoadableClass(..., typeof(SignatureLoadModel), ..., LoaderSignature)]</c>, and the assembly that
/// holds the loader. The assembly's full name is what lets <c>mlContext.Model.Load</c> find the loader in a process
/// that has never touched this library: ML.NET's ModelLoadContext calls <c>Assembly.Load</c> on it and registers the
/// assembly with its ComponentCatalog before it looks the loader signature up.
/// </summary>
internal sealed record ModelFormat
{
    /// <summary>Describes a format.</summary>
    /// <param name="modelSignature">Exactly 8 ASCII characters, unique per transformer (e.g. "LAYRMASK").</param>
    /// <param name="loaderSignature">The name the transformer is registered under with <c>LoadableClass</c>.</param>
    /// <param name="loaderType">The type holding the static <c>Create(IHostEnvironment, ModelLoadContext)</c> loader.</param>
    /// <param name="version">Version this code writes. Bump it when the content changes.</param>
    /// <param name="oldestReadableVersion">Oldest version this code still reads.</param>
    public ModelFormat(string modelSignature, string loaderSignature, Type loaderType, uint version = 1, uint? oldestReadableVersion = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelSignature);
        ArgumentException.ThrowIfNullOrEmpty(loaderSignature);
        ArgumentNullException.ThrowIfNull(loaderType);
        if (modelSignature.Length != 8 || modelSignature.Any(c => c > 0x7F))
            throw new ArgumentException($"A model signature is exactly 8 ASCII characters; got '{modelSignature}'.", nameof(modelSignature));
        if (version < 1) throw new ArgumentOutOfRangeException(nameof(version), version, "Versions start at 1.");
        uint oldest = oldestReadableVersion ?? version;
        if (oldest < 1 || oldest > version)
            throw new ArgumentOutOfRangeException(nameof(oldestReadableVersion), oldest, $"must lie in [1, {version}].");
        ModelSignature = modelSignature;
        LoaderSignature = loaderSignature;
        LoaderType = loaderType;
        Version = version;
        OldestReadableVersion = oldest;
    }

    /// <summary>8-character signature stored in the entry header.</summary>
    public string ModelSignature { get; }

    /// <summary>Name under which the loader is registered.</summary>
    public string LoaderSignature { get; }

    /// <summary>Type whose assembly holds the loader.</summary>
    public Type LoaderType { get; }

    /// <summary>Version written.</summary>
    public uint Version { get; }

    /// <summary>Oldest version still read.</summary>
    public uint OldestReadableVersion { get; }

    // ML.NET encodes versions as 0xMMMMmmmm-style numbers; 0x00010000 + n keeps them readable in a hex dump.
    private static uint Encode(uint version) => 0x00010000u + version;

    /// <summary>Decodes a version read back from a header.</summary>
    internal static uint Decode(uint encoded) => encoded - 0x00010000u;

    internal VersionInfo ToVersionInfo() => new(
        modelSignature: ModelSignature,
        verWrittenCur: Encode(Version),
        // Older code never reads newer content: a reader must be at least the version written.
        verReadableCur: Encode(Version),
        verWeCanReadBack: Encode(OldestReadableVersion),
        loaderAssemblyName: LoaderType.Assembly.FullName,
        loaderSignature: LoaderSignature);
}
