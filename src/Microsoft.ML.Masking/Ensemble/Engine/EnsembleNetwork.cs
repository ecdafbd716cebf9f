using Microsoft.ML.Masking.Attribution.Engine;
using Microsoft.ML.Masking.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Ensemble.Engine;

/// <summary>
/// One member's forward pass: its logits, its gate as it multiplies the last feature map (<see cref="MapGate"/>
/// [N, C, 1, 1] for channel gates; ones for member 0 or without gating), its last feature map before the gate and its
/// gated pooled features.
/// </summary>
internal sealed record MemberForward(Tensor Logits, Tensor MapGate, Tensor FeatureMap, Tensor GatedFeatures)
{
    /// <summary>The gate as one row per input, [N, gate values] (the Gates column's layout).</summary>
    public Tensor Gate { get; } = MapGate.flatten(1);

    /// <summary>The gated last feature map [N, C, h, w], the input of global average pooling and the head.</summary>
    public Tensor GatedMap() => FeatureMap.mul(MapGate);

    /// <summary>Moves every tensor to the outer dispose scope.</summary>
    public MemberForward MoveToOuterDisposeScope()
    {
        Logits.MoveToOuterDisposeScope();
        MapGate.MoveToOuterDisposeScope();
        FeatureMap.MoveToOuterDisposeScope();
        GatedFeatures.MoveToOuterDisposeScope();
        Gate.MoveToOuterDisposeScope();
        return this;
    }
}

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
        var map = network.FeatureMap(normalized);
        var features = network.Pool(map);
        var gate = _gates[member] is { } g && gateInput is not null ? g.forward(gateInput) : ones_like(features);
        var gated = features.mul(gate);
        var logits = network.Head.forward(gated);
        return new MemberForward(logits, gate.view(gate.shape[0], gate.shape[1], 1, 1), map, gated).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Member <paramref name="member"/> split at its gated last feature map, for layer attribution: the activation is
    /// the feature map times the member's gate (computed from the earlier members on the same input), and the rest of
    /// the network is global average pooling and the head.
    /// </summary>
    public IAttributedLayer MemberLayer(int member) => new GatedMapLayer(this, member);

    private sealed class GatedMapLayer(EnsembleNetwork network, int member) : IAttributedLayer
    {
        public string LayerName => $"member {member}'s gated last feature map";

        public Tensor ToLayer(Tensor normalized)
        {
            using var scope = NewDisposeScope();
            var gateInput = member > 0 && network._gates[member] is not null ? network.GateInput(normalized, member) : null;
            return network.Member(normalized, member, gateInput).GatedMap().MoveToOuterDisposeScope();
        }

        public Tensor FromLayer(Tensor activation)
        {
            using var scope = NewDisposeScope();
            var resnet = network._members[member];
            return resnet.Head.forward(resnet.Pool(activation)).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Every member's forward pass on <paramref name="normalized"/> images, each gate fed by the earlier members.</summary>
    public IReadOnlyList<MemberForward> Forward(Tensor normalized)
    {
        using var scope = NewDisposeScope();
        var (results, _) = Run(normalized, _members.Count);
        foreach (var r in results)
            r.MoveToOuterDisposeScope();
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
