using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core.Persistence;

/// <summary>
/// Moves the state (parameters and buffers) of a TorchSharp module in and out of open formats: safetensors for
/// everything this library writes (model.zip entries, checkpoints), and PyTorch <c>torch.save(state_dict)</c> files
/// (<c>.pt</c>/<c>.pth</c>) or safetensors files for weights trained elsewhere, e.g. torchvision ResNets.
/// Loading is strict by default: every key of the module must be present with the same shape and element type, and
/// the file must hold no other key; otherwise a <see cref="StateDictMismatchException"/> lists all differences.
/// <see cref="WeightLoadOptions"/> loosen that deliberately (a backbone without its head, a prefix, a key map), and
/// every load returns a <see cref="WeightLoadReport"/> of what was loaded, renamed, skipped and ignored.
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
    /// <param name="options">How keys are matched; null is strict (<see cref="WeightLoadOptions.Strict"/>).</param>
    /// <returns>What was loaded, renamed, skipped and ignored.</returns>
    /// <exception cref="StateDictMismatchException">Keys, shapes or element types differ beyond what <paramref name="options"/> allow.</exception>
    public static WeightLoadReport Load(nn.Module module, Stream stream, string source = "stream", WeightLoadOptions? options = null)
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
        return LoadState(module, state, source, options);
    }

    /// <summary>Loads safetensors bytes into <paramref name="module"/>.</summary>
    /// <param name="module">The module to fill; its tensors keep their device.</param>
    /// <param name="safetensors">The safetensors content.</param>
    /// <param name="source">How to name the source in error messages.</param>
    /// <param name="options">How keys are matched; null is strict.</param>
    /// <returns>What was loaded, renamed, skipped and ignored.</returns>
    public static WeightLoadReport LoadSafetensors(nn.Module module, byte[] safetensors, string source = "bytes", WeightLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(safetensors);
        using var stream = new MemoryStream(safetensors, writable: false);
        return Load(module, stream, source, options);
    }

    /// <summary>
    /// Loads weights from a file into <paramref name="module"/>: <c>.safetensors</c> as safetensors, anything else
    /// (<c>.pt</c>, <c>.pth</c>, <c>.bin</c>) as a PyTorch state dict saved with <c>torch.save(model.state_dict(), path)</c>.
    /// </summary>
    /// <param name="module">The module to fill; its tensors keep their device.</param>
    /// <param name="path">The weights file.</param>
    /// <param name="options">How keys are matched; null is strict. For example a torchvision ResNet-18 without its
    /// 1000-class head: <c>new WeightLoadOptions { SkipPrefixes = ["fc."] }</c>.</param>
    /// <returns>What was loaded, renamed, skipped and ignored.</returns>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="StateDictMismatchException">Keys, shapes or element types differ beyond what <paramref name="options"/> allow.</exception>
    public static WeightLoadReport LoadFile(nn.Module module, string path, WeightLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
            throw new FileNotFoundException($"No weights file at '{fullPath}'.", fullPath);
        using var stream = File.OpenRead(fullPath);
        if (string.Equals(Path.GetExtension(fullPath), ".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            return Load(module, stream, fullPath, options);
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
        return LoadState(module, state, fullPath, options);
    }

    /// <summary>Writes the state of <paramref name="module"/> to a safetensors file atomically: a temporary file in the same folder, then a rename, so a reader never sees a partial file.</summary>
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

    /// <summary>
    /// Copies <paramref name="state"/> into <paramref name="module"/> after checking that it fits as
    /// <paramref name="options"/> say; disposes the tensors of <paramref name="state"/>.
    /// </summary>
    private static WeightLoadReport LoadState(nn.Module module, Dictionary<string, Tensor> state, string source, WeightLoadOptions? options)
    {
        try
        {
            options ??= WeightLoadOptions.Strict;
            options.Validate();
            var plan = WeightKeyMatching.Match(module.state_dict(), state, source, options);
            using var noGrad = no_grad();
            foreach (var (target, loaded) in plan.Copies)
                target.copy_(loaded);
            return plan.Report;
        }
        finally
        {
            foreach (var tensor in state.Values)
                tensor.Dispose();
        }
    }
}
