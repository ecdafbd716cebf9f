using System.IO.Compression;
using System.Text.Json;
using Microsoft.ML.Masking.Core.Persistence;

namespace Microsoft.ML.Masking.Core.Training;

/// <summary>
/// A resumable snapshot of a <see cref="TrainingLoop"/> run, in one zip file written atomically
/// (<see cref="AtomicFile"/>): per named module its weights (<c>modules/NAME.safetensors</c>) and, under early
/// stopping, its best weights (<c>best/NAME.safetensors</c>); per named optimiser its state (<c>optimizers/NAME.bin</c>,
/// TorchSharp's format); and a JSON header with the bookkeeping and a fingerprint of the options and data.
/// Random state needs no entry: the loop draws every epoch's randomness from a generator seeded by (seed, epoch),
/// and checkpoints are taken between epochs. Resuming requires an equal fingerprint, because only then does the
/// resumed run equal an uninterrupted one.
/// </summary>
internal static class TrainingCheckpoint
{
    private const int FormatVersion = 2;
    private const string HeaderEntry = "checkpoint.json";

    // Losses can diverge to NaN; the header must still be written.
    private static readonly JsonSerializerOptions JsonOptions = new(ModelJson.Options)
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private sealed record Header(int FormatVersion, IReadOnlyDictionary<string, string> Fingerprint, TrainingState State);

    public static void Write(string path, IReadOnlyDictionary<string, string> fingerprint, TrainingState state,
        TrainingComponents components, ModuleSnapshot? best)
    {
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            WriteEntry(zip, HeaderEntry, s => JsonSerializer.Serialize(s, new Header(FormatVersion, fingerprint, state), JsonOptions));
            foreach (var (name, module) in components.Modules)
            {
                WriteEntry(zip, ModuleEntry(name), s => ModuleWeights.Save(module, s));
                if (best is { IsTaken: true })
                    WriteEntry(zip, BestEntry(name), s => best.Save(name, s));
            }
            foreach (var (name, optimizer, _) in components.Optimizers)
                WriteEntry(zip, OptimizerEntry(name), s =>
                {
                    using var writer = new BinaryWriter(s, System.Text.Encoding.UTF8, leaveOpen: true);
                    optimizer.save_state_dict(writer);
                });
        });
    }

    /// <summary>Loads the checkpoint at <paramref name="path"/> into the components and best snapshot; returns its bookkeeping.</summary>
    /// <exception cref="InvalidOperationException">The checkpoint was written with other options or data.</exception>
    /// <exception cref="InvalidDataException">The file is not a checkpoint of this loop, or lacks a component.</exception>
    public static TrainingState Restore(string path, IReadOnlyDictionary<string, string> fingerprint,
        TrainingComponents components, ModuleSnapshot? best)
    {
        using var zip = OpenArchive(path);
        var header = ReadEntry(zip, path, HeaderEntry, s => JsonSerializer.Deserialize<Header>(s, JsonOptions))
            ?? throw new InvalidDataException($"Checkpoint '{path}' has an empty header.");
        if (header.FormatVersion != FormatVersion)
            throw new InvalidDataException($"Checkpoint '{path}' has format version {header.FormatVersion}; this library reads version {FormatVersion}.");
        var differences = fingerprint.Keys.Union(header.Fingerprint.Keys)
            .Where(k => !fingerprint.TryGetValue(k, out var now) || !header.Fingerprint.TryGetValue(k, out var then) || now != then)
            .Order(StringComparer.Ordinal).ToList();
        if (differences.Count > 0)
            throw new InvalidOperationException(
                $"Checkpoint '{path}' was written by a run with other settings or data ({string.Join(", ", differences)} differ); " +
                "resuming would not reproduce that run. Delete the checkpoint or restore the settings.");

        foreach (var (name, module) in components.Modules)
        {
            ReadEntry(zip, path, ModuleEntry(name), s => { ModuleWeights.Load(module, s, $"{path}:{ModuleEntry(name)}"); return true; });
            if (best is not null && header.State.BestEpoch > 0)
                ReadEntry(zip, path, BestEntry(name), s => { best.Load(name, module, s, $"{path}:{BestEntry(name)}"); return true; });
        }
        foreach (var (name, optimizer, _) in components.Optimizers)
            ReadEntry(zip, path, OptimizerEntry(name), s =>
            {
                using var reader = new BinaryReader(s);
                optimizer.load_state_dict(reader);
                return true;
            });
        return header.State;
    }

    private static string ModuleEntry(string name) => $"modules/{name}.safetensors";

    private static string BestEntry(string name) => $"best/{name}.safetensors";

    private static string OptimizerEntry(string name) => $"optimizers/{name}.bin";

    private static ZipArchive OpenArchive(string path)
    {
        try
        {
            return ZipFile.OpenRead(path);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{path}' is not a training checkpoint (not a zip file).", e);
        }
    }

    private static void WriteEntry(ZipArchive zip, string name, Action<Stream> write)
    {
        using var entry = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
        write(entry);
    }

    // Entries are buffered: zip entry streams do not seek, and the readers may.
    private static T ReadEntry<T>(ZipArchive zip, string path, string name, Func<Stream, T> read)
    {
        var entry = zip.GetEntry(name) ?? throw new InvalidDataException($"Checkpoint '{path}' lacks its '{name}' entry.");
        using var buffer = new MemoryStream();
        using (var source = entry.Open())
            source.CopyTo(buffer);
        buffer.Position = 0;
        return read(buffer);
    }
}
