using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core.Training;

/// <summary>
/// A copy of the state (parameters and buffers) of a set of named modules, for "keep the best epoch" under early
/// stopping: taken after a better epoch, restored into the modules at the end, and carried by checkpoints.
/// </summary>
internal sealed class ModuleSnapshot : IDisposable
{
    private readonly Dictionary<string, Dictionary<string, Tensor>> _states = [];

    /// <summary>Whether a snapshot was taken (or loaded).</summary>
    public bool IsTaken => _states.Count > 0;

    /// <summary>Copies the current state of <paramref name="modules"/>, replacing any earlier copy.</summary>
    public void Take(IEnumerable<(string Name, nn.Module Module)> modules)
    {
        using var noGrad = no_grad();
        foreach (var (name, module) in modules)
        {
            if (!_states.TryGetValue(name, out var state))
                _states[name] = state = [];
            foreach (var (key, tensor) in module.state_dict())
            {
                if (state.TryGetValue(key, out var copy))
                    copy.copy_(tensor);
                else
                    state[key] = tensor.detach().clone().DetachFromDisposeScope();
            }
        }
    }

    /// <summary>Copies the snapshot into <paramref name="modules"/>.</summary>
    public void Restore(IEnumerable<(string Name, nn.Module Module)> modules)
    {
        using var noGrad = no_grad();
        foreach (var (name, module) in modules)
        {
            var state = _states[name];
            foreach (var (key, tensor) in module.state_dict())
                tensor.copy_(state[key]);
        }
    }

    /// <summary>Writes the snapshot of module <paramref name="name"/> as safetensors.</summary>
    public void Save(string name, Stream stream)
    {
        using var scope = NewDisposeScope();
        var cpu = _states[name].ToDictionary(p => p.Key, p => p.Value.cpu().contiguous());
        Safetensors.SaveStateDict(stream, cpu, leaveOpen: true);
    }

    /// <summary>Reads the snapshot of module <paramref name="name"/> (shaped like <paramref name="module"/>'s state) from safetensors.</summary>
    public void Load(string name, nn.Module module, Stream stream, string source)
    {
        Dictionary<string, Tensor> loaded;
        try
        {
            loaded = Safetensors.LoadStateDict(stream, leaveOpen: true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"'{source}' is not a readable safetensors file: {e.Message}", e);
        }
        try
        {
            Take([(name, module)]);
            using var noGrad = no_grad();
            var state = _states[name];
            foreach (var (key, copy) in state)
            {
                if (!loaded.TryGetValue(key, out var value) || !value.shape.SequenceEqual(copy.shape))
                    throw new InvalidDataException($"'{source}' does not hold the best weights of module '{name}' (entry '{key}' is missing or shaped differently).");
                copy.copy_(value);
            }
        }
        finally
        {
            foreach (var tensor in loaded.Values)
                tensor.Dispose();
        }
    }

    /// <summary>Frees the copies.</summary>
    public void Dispose()
    {
        foreach (var state in _states.Values)
            foreach (var tensor in state.Values)
                tensor.Dispose();
        _states.Clear();
    }
}
