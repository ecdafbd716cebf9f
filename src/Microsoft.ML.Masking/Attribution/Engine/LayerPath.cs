using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// Runs a network whose forward pass is its children in registration order (the library's ResNet, nn.Sequential),
/// descending into Sequential children, and hands out the output of the module at a module path such as
/// "layer3" or "layer3.1". The paths it can stop at are <see cref="Candidates"/>. As an <see cref="IAttributedLayer"/>
/// it runs the modules up to and including that one (<see cref="ToLayer"/>) or the ones after it (<see cref="FromLayer"/>).
/// </summary>
internal sealed class LayerPath : IAttributedLayer
{
    private readonly nn.Module<Tensor, Tensor> _network;

    public LayerPath(nn.Module<Tensor, Tensor> network, string layerName)
    {
        _network = network ?? throw new ArgumentNullException(nameof(network));
        ArgumentException.ThrowIfNullOrWhiteSpace(layerName);
        Candidates = CandidatesOf(network);
        if (!Candidates.Contains(layerName))
            throw new ArgumentException(
                $"The network has no layer '{layerName}' whose output can be read; candidates: {string.Join(", ", Candidates)}.", nameof(layerName));
        LayerName = layerName;
    }

    /// <summary>The module path whose output is captured.</summary>
    public string LayerName { get; }

    /// <summary>Every module path whose output this class can capture, in forward order.</summary>
    public IReadOnlyList<string> Candidates { get; }

    /// <summary>The module paths of <paramref name="network"/> whose outputs can be captured.</summary>
    public static IReadOnlyList<string> CandidatesOf(nn.Module network)
    {
        var names = new List<string>();
        void Walk(nn.Module module, string prefix)
        {
            foreach (var (name, child) in module.named_children())
            {
                string path = prefix.Length == 0 ? name : $"{prefix}.{name}";
                names.Add(path);
                if (child is Sequential)
                    Walk(child, path);
            }
        }
        Walk(network, "");
        return names;
    }

    /// <summary>The network's output for <paramref name="input"/>, and the captured layer's output (part of the same graph).</summary>
    public (Tensor Output, Tensor Activation) Forward(Tensor input)
    {
        var (output, captured) = Run(input, before: true, after: true);
        return (output, captured ?? throw new InvalidOperationException($"Layer '{LayerName}' was not reached."));
    }

    /// <inheritdoc/>
    public Tensor ToLayer(Tensor normalized) =>
        Run(normalized, before: true, after: false).Captured ?? throw new InvalidOperationException($"Layer '{LayerName}' was not reached.");

    /// <inheritdoc/>
    public Tensor FromLayer(Tensor activation) => Run(activation, before: false, after: true).Output;

    // Runs the children in order, descending into the Sequential that holds the layer: the modules up to and including
    // the layer when `before`, the ones after it when `after`; a skipped module leaves the value unchanged.
    private (Tensor Output, Tensor? Captured) Run(Tensor input, bool before, bool after)
    {
        Tensor? captured = null;
        bool passed = false;
        Tensor Walk(nn.Module module, string prefix, Tensor x)
        {
            foreach (var (name, child) in module.named_children())
            {
                string path = prefix.Length == 0 ? name : $"{prefix}.{name}";
                if (child is Sequential && LayerName.StartsWith(path + ".", StringComparison.Ordinal))
                    x = Walk(child, path, x);
                else if (passed ? after : before)
                    x = ((nn.Module<Tensor, Tensor>)child).forward(x);
                if (path == LayerName)
                {
                    captured = x;
                    passed = true;
                }
            }
            return x;
        }
        var output = Walk(_network, "", input);
        return (output, captured);
    }
}
