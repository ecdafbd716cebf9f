using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Masking.Core.Persistence;
using TorchSharp;

namespace Microsoft.ML.Masking.Internal;

/// <summary>
/// Writes one transformer's entry of a model.zip: ML.NET's header (via <see cref="ModelFormat"/>) in the main
/// stream, and named side streams such as a JSON header and safetensors weights. Wraps the internal members of
/// <see cref="ModelSaveContext"/> so transformers never call them directly.
/// </summary>
internal sealed class ModelContentWriter
{
    private readonly ModelSaveContext _context;

    private ModelContentWriter(ModelSaveContext context) => _context = context;

    /// <summary>
    /// Saves a transformer: stamps <paramref name="format"/> into the header, then lets <paramref name="writeContent"/>
    /// add its streams. Use from <c>ICanSaveModel.Save</c>.
    /// </summary>
    /// <exception cref="NotSupportedException">The process runs an ML.NET release this build was not tested with.</exception>
    public static void Save(ModelSaveContext context, ModelFormat format, Action<ModelContentWriter> writeContent)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(format);
        ArgumentNullException.ThrowIfNull(writeContent);
        MLNetVersionGuard.EnsureSupported();
        SaveChecked(context, format, writeContent);
    }

    // Apart from Save so that the version guard runs before the JIT resolves any internal member used here.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SaveChecked(ModelSaveContext context, ModelFormat format, Action<ModelContentWriter> writeContent)
    {
        if (!context.InRepository)
            throw new NotSupportedException("These transformers save into a model repository (mlContext.Model.Save), not into a single stream.");
        context.CheckAtModel();
        context.SetVersionInfo(format.ToVersionInfo());
        writeContent(new ModelContentWriter(context));
    }

    /// <summary>Writes raw bytes as the stream <paramref name="name"/> of this transformer's folder.</summary>
    public void WriteBytes(string name, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        _context.SaveBinaryStream(name, writer => writer.Write(copy));
    }

    /// <summary>Lets <paramref name="write"/> fill the stream <paramref name="name"/>.</summary>
    public void WriteStream(string name, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        _context.SaveBinaryStream(name, writer =>
        {
            writer.Flush();
            write(writer.BaseStream);
        });
    }

    /// <summary>Writes <paramref name="value"/> as indented UTF-8 JSON (no BOM), readable after unzipping the model.</summary>
    public void WriteJson<T>(string name, T value) =>
        WriteBytes(name, JsonSerializer.SerializeToUtf8Bytes(value, ModelJson.Options));

    /// <summary>Writes the parameters and buffers of <paramref name="module"/> in safetensors format.</summary>
    public void WriteWeights(string name, torch.nn.Module module) =>
        WriteStream(name, stream => ModuleWeights.Save(module, stream));

    /// <summary>
    /// Saves another ML.NET model (a transformer or chain this transformer wraps) into the sub-folder <paramref name="name"/>,
    /// through ML.NET's own persistence, so any saveable transformer can be nested.
    /// </summary>
    public void WriteModel(string name, ITransformer model)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(model);
        if (model is not ICanSaveModel)
            throw new NotSupportedException($"The transformer {model.GetType().Name} cannot be saved, so a model wrapping it cannot be saved either.");
        _context.SaveModel(model, name);
    }
}
