using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core.Training;

/// <summary>
/// What a <see cref="TrainingLoop"/> trains and checkpoints: named modules (weights saved, switched to training
/// mode before each epoch and to evaluation mode before validation and at the end) and named optimisers, each with
/// the learning-rate schedule the loop sets before every step. Names are the checkpoint's entry names, so keep
/// them stable. The caller owns (and disposes) the modules and optimisers.
/// </summary>
internal sealed class TrainingComponents
{
    private readonly List<(string Name, nn.Module Module)> _modules = [];
    private readonly List<(string Name, OptimizerHelper Optimizer, LearningRateSchedule Schedule)> _optimizers = [];

    /// <summary>The modules, in the order they were added.</summary>
    public IReadOnlyList<(string Name, nn.Module Module)> Modules => _modules;

    /// <summary>The optimisers with their schedules, in the order they were added.</summary>
    public IReadOnlyList<(string Name, OptimizerHelper Optimizer, LearningRateSchedule Schedule)> Optimizers => _optimizers;

    /// <summary>Adds a module whose weights the checkpoints carry.</summary>
    public TrainingComponents AddModule(string name, nn.Module module)
    {
        CheckName(name, _modules.Select(m => m.Name));
        ArgumentNullException.ThrowIfNull(module);
        _modules.Add((name, module));
        return this;
    }

    /// <summary>Adds an optimiser whose state the checkpoints carry, and whose rate follows <paramref name="schedule"/>.</summary>
    public TrainingComponents AddOptimizer(string name, OptimizerHelper optimizer, LearningRateSchedule schedule)
    {
        CheckName(name, _optimizers.Select(o => o.Name));
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(schedule);
        _optimizers.Add((name, optimizer, schedule));
        return this;
    }

    /// <summary>The module called <paramref name="name"/>.</summary>
    public nn.Module Module(string name) =>
        _modules.FirstOrDefault(m => m.Name == name).Module ?? throw new KeyNotFoundException($"No module '{name}' was added.");

    /// <summary>The optimiser called <paramref name="name"/>.</summary>
    public OptimizerHelper Optimizer(string name) =>
        _optimizers.FirstOrDefault(o => o.Name == name).Optimizer ?? throw new KeyNotFoundException($"No optimizer '{name}' was added.");

    internal void Train(bool on)
    {
        foreach (var (_, module) in _modules)
        {
            if (on) module.train();
            else module.eval();
        }
    }

    private static void CheckName(string name, IEnumerable<string> taken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            throw new ArgumentException($"Component name '{name}' may hold only ASCII letters, digits, '-', '_' and '.' (it names a checkpoint entry).", nameof(name));
        if (taken.Contains(name))
            throw new ArgumentException($"A component named '{name}' was already added.", nameof(name));
    }
}
