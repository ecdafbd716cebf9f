using System.IO.Compression;
using System.Text.Json;
using Microsoft.ML.Masking.Core.Persistence;
using Microsoft.ML.Masking.Models;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Training.Engine;

/// <summary>
/// A resumable snapshot of training, in one zip file written atomically (<see cref="AtomicFile"/>): the weights
/// (safetensors), the optimiser state (TorchSharp's format), the best weights under early stopping (safetensors),
/// and a JSON header with the bookkeeping and a fingerprint of the options and data. Resuming requires an equal
/// fingerprint, because only then does the resumed run equal an uninterrupted one.
/// </summary>
internal static class TrainingCheckpoint
{
    private const int FormatVersion = 1;
    private const string HeaderEntry = "checkpoint.json";
    private const string WeightsEntry = "model.safetensors";
    private const string OptimizerEntry = "optimizer.bin";
    private const string BestWeightsEntry = "best.safetensors";

    // Losses can diverge to NaN; the header must still be written.
    private static readonly JsonSerializerOptions JsonOptions = new(ModelJson.Options)
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private sealed record Header(int FormatVersion, IReadOnlyDictionary<string, string> Fingerprint, TrainingState State);

    public static void Write(string path, IReadOnlyDictionary<string, string> fingerprint, TrainingState state,
        ResNet model, TorchSharp.Modules.OptimizerHelper optimizer, ResNet? best)
    {
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            WriteEntry(zip, HeaderEntry, s => JsonSerializer.Serialize(s, new Header(FormatVersion, fingerprint, state), JsonOptions));
            WriteEntry(zip, WeightsEntry, s => ModuleWeights.Save(model, s));
            WriteEntry(zip, OptimizerEntry, s =>
            {
                using var writer = new BinaryWriter(s, System.Text.Encoding.UTF8, leaveOpen: true);
                optimizer.save_state_dict(writer);
            });
            if (best is not null)
                WriteEntry(zip, BestWeightsEntry, s => ModuleWeights.Save(best, s));
        });
    }

    /// <summary>Loads the checkpoint at <paramref name="path"/> into the model, optimiser and best model; returns its bookkeeping.</summary>
    /// <exception cref="InvalidOperationException">The checkpoint was written with other options or data.</exception>
    /// <exception cref="InvalidDataException">The file is not a checkpoint of this trainer.</exception>
    public static TrainingState Restore(string path, IReadOnlyDictionary<string, string> fingerprint,
        ResNet model, TorchSharp.Modules.OptimizerHelper optimizer, ResNet? best)
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

        ReadEntry(zip, path, WeightsEntry, s => { ModuleWeights.Load(model, s, $"{path}:{WeightsEntry}"); return true; });
        ReadEntry(zip, path, OptimizerEntry, s =>
        {
            using var reader = new BinaryReader(s);
            optimizer.load_state_dict(reader);
            return true;
        });
        if (best is not null && header.State.BestEpoch > 0)
            ReadEntry(zip, path, BestWeightsEntry, s => { ModuleWeights.Load(best, s, $"{path}:{BestWeightsEntry}"); return true; });
        return header.State;
    }

    private static ZipArchive OpenArchive(string path)
    {
        try
        {
            return ZipFile.OpenRead(path);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{path}' is not a ResNet trainer checkpoint (not a zip file).", e);
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
