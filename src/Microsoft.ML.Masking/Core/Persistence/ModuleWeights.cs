using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core.Persistence;

/// <summary>
/// Moves the state (parameters and buffers) of a TorchSharp module in and out of open formats: safetensors for
/// everything this library writes (model.zip entries, checkpoints), and PyTorch <c>torch.save(state_dict)</c> files
/// (<c>.pt</c>/<c>.pth</c>) or safetensors files for weights trained elsewhere, e.g. torchvision ResNets.
/// Loading is strict: every key of the module must be present with the same shape and element type, and the file
/// must hold no other key; otherwise a <see cref="StateDictMismatchException"/> lists all differences.
/// </summary>
public static class ModuleWeights
{
    /// <summary>Writes the state of <paramref name="module"/> to <paramref name="stream"/> in safetensors format (left open).</summary>
    /// <remarks>Tensors on another device are copied to the CPU for writing; the module is not moved.</remarks>
    public static void Save(nn.Module module, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(stream);
        using var scope = NewDisposeScope();
        var state = new Dictionary<string, Tensor>();
        foreach (var (key, tensor) in module.state_dict())
            state[key] = tensor.detach().cpu().contiguous();
        Safetensors.SaveStateDict(stream, state, leaveOpen: true);
        stream.Flush();
    }

    /// <summary>The state of <paramref name="module"/> as safetensors bytes.</summary>
    public static byte[] ToSafetensors(nn.Module module)
    {
        using var buffer = new MemoryStream();
        Save(module, buffer);
        return buffer.ToArray();
    }

    /// <summary>Loads safetensors state from <paramref name="stream"/> (left open) into <paramref name="module"/>.</summary>
    /// <param name="module">The module to fill; its tensors keep their device.</param>
    /// <param name="stream">A stream positioned at the start of safetensors content.</param>
    /// <param name="source">How to name the source in error messages (e.g. a file path).</param>
    /// <exception cref="StateDictMismatchException">Keys, shapes or element types differ.</exception>
    public static void Load(nn.Module module, Stream stream, string source = "stream")
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(stream);
        Dictionary<string, Tensor> state;
        try
        {
            state = Safetensors.LoadStateDict(stream, leaveOpen: true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"'{source}' is not a readable safetensors file: {e.Message}", e);
        }
        LoadState(module, state, source);
    }

    /// <summary>Loads safetensors bytes into <paramref name="module"/>.</summary>
    public static void LoadSafetensors(nn.Module module, byte[] safetensors, string source = "bytes")
    {
        ArgumentNullException.ThrowIfNull(safetensors);
        using var stream = new MemoryStream(safetensors, writable: false);
        Load(module, stream, source);
    }

    /// <summary>
    /// Loads weights from a file into <paramref name="module"/>: <c>.safetensors</c> as safetensors, anything else
    /// (<c>.pt</c>, <c>.pth</c>, <c>.bin</c>) as a PyTorch state dict saved with <c>torch.save(model.state_dict(), path)</c>.
    /// </summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="StateDictMismatchException">Keys, shapes or element types differ.</exception>
    public static void LoadFile(nn.Module module, string path)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
            throw new FileNotFoundException($"No weights file at '{fullPath}'.", fullPath);
        using var stream = File.OpenRead(fullPath);
        if (string.Equals(Path.GetExtension(fullPath), ".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            Load(module, stream, fullPath);
            return;
        }
        System.Collections.Hashtable pickled;
        try
        {
            pickled = PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException(
                $"'{fullPath}' is not a PyTorch state dict saved with torch.save(model.state_dict(), path): {e.Message}", e);
        }
        var state = new Dictionary<string, Tensor>();
        foreach (System.Collections.DictionaryEntry entry in pickled)
        {
            if (entry.Value is not Tensor tensor)
                throw new InvalidDataException($"'{fullPath}' entry '{entry.Key}' is not a tensor; save model.state_dict(), not the whole model.");
            state[(string)entry.Key] = tensor;
        }
        LoadState(module, state, fullPath);
    }

    /// <summary>Writes the state of <paramref name="module"/> to a safetensors file atomically (see <see cref="AtomicFile"/>).</summary>
    public static void SaveFile(nn.Module module, string path)
    {
        ArgumentNullException.ThrowIfNull(module);
        AtomicFile.Write(path, stream => Save(module, stream));
    }

    /// <summary>Saves the state as a PyTorch state dict (<c>torch.load</c>-able), atomically.</summary>
    public static void SavePyTorchFile(nn.Module module, string path)
    {
        ArgumentNullException.ThrowIfNull(module);
        AtomicFile.Write(path, stream => module.save_py(stream, leaveOpen: true));
    }

    /// <summary>Copies <paramref name="state"/> into <paramref name="module"/> after checking that it fits exactly; disposes the tensors of <paramref name="state"/>.</summary>
    private static void LoadState(nn.Module module, Dictionary<string, Tensor> state, string source)
    {
        try
        {
            var expected = module.state_dict();
            var mismatch = StateDictMismatchException.Compare(expected, state, source);
            if (mismatch is not null)
                throw mismatch;
            using var noGrad = no_grad();
            foreach (var (key, target) in expected)
                target.copy_(state[key]);
        }
        finally
        {
            foreach (var tensor in state.Values)
                tensor.Dispose();
        }
    }
}
