using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Masking.Core.Persistence;
using TorchSharp;

namespace Microsoft.ML.Masking.Internal;

/// <summary>
/// Reads what <see cref="ModelContentWriter"/> wrote: checks the header against a <see cref="ModelFormat"/>, then
/// serves the named side streams. Wraps the internal <see cref="ModelLoadContext"/>.
/// </summary>
internal sealed class ModelContentReader
{
    private readonly ModelLoadContext _context;

    private ModelContentReader(ModelLoadContext context, uint version)
    {
        _context = context;
        Version = version;
    }

    /// <summary>The version the entry was written with (between the format's oldest readable version and its version).</summary>
    public uint Version { get; }

    /// <summary>
    /// Opens the entry for reading. Use first thing in the transformer's static
    /// <c>Create(IHostEnvironment env, ModelLoadContext ctx)</c>.
    /// </summary>
    /// <exception cref="FormatException">The entry was written by another transformer or by an unreadable version.</exception>
    /// <exception cref="NotSupportedException">The process runs an ML.NET release this build was not tested with.</exception>
    public static ModelContentReader Open(ModelLoadContext context, ModelFormat format)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(format);
        MLNetVersionGuard.EnsureSupported();
        return OpenChecked(context, format);
    }

    // Apart from Open so that the version guard runs before the JIT resolves any internal member used here.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ModelContentReader OpenChecked(ModelLoadContext context, ModelFormat format)
    {
        if (!context.InRepository)
            throw new NotSupportedException("These transformers load from a model repository (mlContext.Model.Load), not from a single stream.");
        // Checks the model signature and version range; throws ML.NET's FormatException naming both on mismatch.
        context.CheckAtModel(format.ToVersionInfo());
        return new ModelContentReader(context, ModelFormat.Decode(context.Header.ModelVerWritten));
    }

    /// <summary>All bytes of the stream <paramref name="name"/>.</summary>
    /// <exception cref="FormatException">The stream is missing (the model file is incomplete or from another writer).</exception>
    public byte[] ReadBytes(string name)
    {
        byte[]? bytes = null;
        if (!_context.TryLoadBinaryStream(name, reader =>
            {
                using var copy = new MemoryStream();
                reader.BaseStream.CopyTo(copy);
                bytes = copy.ToArray();
            }))
            throw new FormatException($"The model has no '{name}' stream in '{_context.Directory}'.");
        return bytes!;
    }

    /// <summary>Reads the JSON written by <see cref="ModelContentWriter.WriteJson{T}"/>.</summary>
    public T ReadJson<T>(string name)
    {
        var bytes = ReadBytes(name);
        try
        {
            return JsonSerializer.Deserialize<T>(bytes, ModelJson.Options)
                ?? throw new FormatException($"'{name}' holds JSON null.");
        }
        catch (JsonException e)
        {
            throw new FormatException($"'{name}' in '{_context.Directory}' is not a valid {typeof(T).Name}: {e.Message}", e);
        }
    }

    /// <summary>Loads safetensors weights into <paramref name="module"/>; keys and shapes must match exactly.</summary>
    public void ReadWeights(string name, torch.nn.Module module)
    {
        using var stream = new MemoryStream(ReadBytes(name), writable: false);
        ModuleWeights.Load(module, stream, source: $"{_context.Directory}/{name}");
    }

    /// <summary>Loads the model <see cref="ModelContentWriter.WriteModel"/> saved in the sub-folder <paramref name="name"/>.</summary>
    /// <exception cref="FormatException">The sub-folder is missing.</exception>
    public ITransformer ReadModel(Microsoft.ML.Runtime.IHostEnvironment env, string name)
    {
        ArgumentNullException.ThrowIfNull(env);
        if (!_context.LoadModelOrNull<ITransformer, SignatureLoadModel>(env, out var model, name) || model is null)
            throw new FormatException($"The model has no nested model '{name}' in '{_context.Directory}'.");
        return model;
    }
}
