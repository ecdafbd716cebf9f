using Microsoft.ML.Masking.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Ensemble.Engine;

/// <summary>One member's forward pass: its logits, its gate ([N, C], ones for member 0 or without gating) and its gated pooled features.</summary>
internal sealed record MemberForward(Tensor Logits, Tensor Gate, Tensor GatedFeatures);

/// <summary>
/// The dynamic-mask ensemble's networks: member ResNets and, for members i &gt; 0, their <see cref="ChannelGate"/>s
/// (null without gating). Member i's gate is computed from the input through members 0…i−1: each earlier member's
/// per-input channel contributions to its own predicted class (<see cref="ChannelImportance.Contributions"/>, with its
/// own gate applied), concatenated. The gate multiplies member i's last feature map; since global average pooling is
/// linear, that equals multiplying the pooled features, which is what is computed. The caller decides about
/// <c>no_grad</c>; the modules are used in place.
/// </summary>
internal sealed class EnsembleNetwork : IDisposable
{
    private readonly List<ResNet> _members = [];
    private readonly List<ChannelGate?> _gates = [];

    /// <summary>The member networks, in training order.</summary>
    public IReadOnlyList<ResNet> Members => _members;

    /// <summary>The gates (index 0 and all of them without gating: null).</summary>
    public IReadOnlyList<ChannelGate?> Gates => _gates;

    /// <summary>Adds a member and its gate (null for member 0 or without gating).</summary>
    public void Add(ResNet member, ChannelGate? gate)
    {
        if (_members.Count == 0 && gate is not null)
            throw new ArgumentException("Member 0 has no gate.", nameof(gate));
        _members.Add(member);
        _gates.Add(gate);
    }

    /// <summary>
    /// The gate input of member <paramref name="member"/>: members 0…member−1's channel contributions to their
    /// predicted class on <paramref name="normalized"/> images, concatenated ([N, Σ C]).
    /// </summary>
    public Tensor GateInput(Tensor normalized, int member)
    {
        using var scope = NewDisposeScope();
        var (_, contributions) = Run(normalized, member);
        return cat(contributions, 1).MoveToOuterDisposeScope();
    }

    /// <summary>Member <paramref name="member"/>'s forward pass; <paramref name="gateInput"/> is <see cref="GateInput"/>'s result (ignored without a gate).</summary>
    public MemberForward Member(Tensor normalized, int member, Tensor? gateInput)
    {
        using var scope = NewDisposeScope();
        var network = _members[member];
        var features = network.Features(normalized);
        var gate = _gates[member] is { } g && gateInput is not null ? g.forward(gateInput) : ones_like(features);
        var gated = features.mul(gate);
        var logits = network.Head.forward(gated);
        return new MemberForward(logits.MoveToOuterDisposeScope(), gate.MoveToOuterDisposeScope(), gated.MoveToOuterDisposeScope());
    }

    /// <summary>Every member's forward pass on <paramref name="normalized"/> images, each gate fed by the earlier members.</summary>
    public IReadOnlyList<MemberForward> Forward(Tensor normalized)
    {
        using var scope = NewDisposeScope();
        var (results, _) = Run(normalized, _members.Count);
        foreach (var r in results)
        {
            r.Logits.MoveToOuterDisposeScope();
            r.Gate.MoveToOuterDisposeScope();
            r.GatedFeatures.MoveToOuterDisposeScope();
        }
        return results;
    }

    // Members 0…count−1 in order, each gate fed by the contributions of the members before it.
    private (List<MemberForward> Results, List<Tensor> Contributions) Run(Tensor normalized, int count)
    {
        var results = new List<MemberForward>();
        var contributions = new List<Tensor>();
        for (int i = 0; i < count; i++)
        {
            var forward = Member(normalized, i, i > 0 && _gates[i] is not null ? cat(contributions, 1) : null);
            results.Add(forward);
            contributions.Add(ChannelImportance.Contributions(forward.GatedFeatures, _members[i].Head.weight, forward.Logits.argmax(1)));
        }
        return (results, contributions);
    }

    /// <summary>Moves every module to <paramref name="device"/> and to evaluation mode, and stops their gradients.</summary>
    public void Freeze(Device device)
    {
        foreach (var module in _members.Cast<nn.Module>().Concat(_gates.Where(g => g is not null).Cast<nn.Module>()))
        {
            module.to(device);
            module.eval();
            foreach (var p in module.parameters())
                p.requires_grad = false;
        }
    }

    /// <summary>Disposes the members and gates.</summary>
    public void Dispose()
    {
        foreach (var m in _members) m.Dispose();
        foreach (var g in _gates) g?.Dispose();
    }
}
