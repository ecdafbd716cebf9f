using Microsoft.ML.Masking.Attribution.Engine;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Ensemble.Engine;

/// <summary>
/// One member's forward pass: its logits, its gate as it multiplies the last feature map (<see cref="MapGate"/>:
/// [N, C, 1, 1] for channel gates, [N, 1, h, w] for spatial ones; ones for member 0 or without gating), its last feature
/// map before the gate and its gated pooled features.
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
/// The dynamic-mask ensemble's networks: member ResNets and how members i &gt; 0 are gated (<see cref="Gating"/>).
/// Member i's gate is computed from the input through members 0…i−1, each with its own gate applied:
/// <list type="bullet">
/// <item>Channel gates (<see cref="EnsembleGating.Learned"/>, a <see cref="ChannelGate"/> per member): the earlier members'
/// per-input channel contributions to their own predicted class (<see cref="ChannelImportance.Contributions"/>),
/// concatenated. The gate multiplies member i's last feature map per channel; since global average pooling is linear,
/// that equals multiplying the pooled features, which is what is computed.</item>
/// <item>Spatial gates (<see cref="EnsembleGating.FixedSpatial"/>: <see cref="SpatialGateRule"/>;
/// <see cref="EnsembleGating.LearnedSpatial"/>: a <see cref="SpatialGate"/> per member): the earlier members' evidence
/// concentrations (<see cref="SpatialGateRule.Concentration"/>), stacked [N, i, h, w]. The gate multiplies member i's last
/// feature map per position, before pooling.</item>
/// </list>
/// The caller decides about <c>no_grad</c>; the modules are used in place.
/// </summary>
internal sealed class EnsembleNetwork : IDisposable
{
    private readonly List<ResNet> _members = [];
    private readonly List<nn.Module<Tensor, Tensor>?> _gates = [];

    /// <summary>A network gated as <paramref name="gating"/> says; <paramref name="threshold"/> and <paramref name="temperature"/> are the fixed rule's.</summary>
    public EnsembleNetwork(EnsembleGating gating = EnsembleGating.Learned, double threshold = 2, double temperature = 0.25)
    {
        Gating = gating;
        Threshold = threshold;
        Temperature = temperature;
    }

    /// <summary>How members 1, 2, … are gated.</summary>
    public EnsembleGating Gating { get; }

    /// <summary>θ of the fixed spatial rule.</summary>
    public double Threshold { get; }

    /// <summary>T of the fixed spatial rule.</summary>
    public double Temperature { get; }

    /// <summary>Whether gates are per position of the last feature map rather than per channel.</summary>
    public bool IsSpatial => Gating is EnsembleGating.FixedSpatial or EnsembleGating.LearnedSpatial;

    /// <summary>The member networks, in training order.</summary>
    public IReadOnlyList<ResNet> Members => _members;

    /// <summary>The gate modules (null for member 0, without gating and for the fixed rule).</summary>
    public IReadOnlyList<nn.Module<Tensor, Tensor>?> Gates => _gates;

    /// <summary>Adds a member and its gate module (null for member 0, without gating and for the fixed rule).</summary>
    public void Add(ResNet member, nn.Module<Tensor, Tensor>? gate)
    {
        if (_members.Count == 0 && gate is not null)
            throw new ArgumentException("Member 0 has no gate.", nameof(gate));
        bool needsModule = _members.Count > 0 && Gating is EnsembleGating.Learned or EnsembleGating.LearnedSpatial;
        if (needsModule != gate is not null)
            throw new ArgumentException($"Member {_members.Count} under {Gating} gating {(needsModule ? "needs" : "takes no")} gate module.", nameof(gate));
        _members.Add(member);
        _gates.Add(gate);
    }

    /// <summary>The last feature map's [height, width] for images of <paramref name="shape"/> (one probe through member 0, on its device).</summary>
    public int[] FeatureMapSize(ImageShape shape)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var device = _members[0].parameters().First().device;
        var map = _members[0].FeatureMap(zeros(1, shape.Channels, shape.Height, shape.Width, device: device));
        return [(int)map.shape[2], (int)map.shape[3]];
    }

    /// <summary>Whether member <paramref name="member"/> is gated.</summary>
    public bool IsGated(int member) => member > 0 && Gating != EnsembleGating.Off;

    /// <summary>
    /// The gate input of member <paramref name="member"/> on <paramref name="normalized"/> images: members
    /// 0…member−1's channel contributions concatenated ([N, Σ C]), or their evidence concentrations stacked ([N, member, h, w]).
    /// </summary>
    public Tensor GateInput(Tensor normalized, int member)
    {
        using var scope = NewDisposeScope();
        var (_, pieces) = Run(normalized, member);
        return Combine(pieces).MoveToOuterDisposeScope();
    }

    /// <summary>Member <paramref name="member"/>'s forward pass; <paramref name="gateInput"/> is <see cref="GateInput"/>'s result (ignored without a gate).</summary>
    public MemberForward Member(Tensor normalized, int member, Tensor? gateInput)
    {
        using var scope = NewDisposeScope();
        var network = _members[member];
        var map = network.FeatureMap(normalized);
        long n = map.shape[0], c = map.shape[1], h = map.shape[2], w = map.shape[3];
        bool gated = IsGated(member) && gateInput is not null;
        if (IsSpatial)
        {
            var gate = !gated ? ones(n, 1, h, w, device: map.device)
                : (Gating == EnsembleGating.FixedSpatial
                    ? SpatialGateRule.Gate(gateInput!, h, w, Threshold, Temperature)
                    : _gates[member]!.forward(SpatialGateRule.Resize(gateInput!, h, w))).unsqueeze(1);
            var pooled = network.Pool(map.mul(gate));
            return new MemberForward(network.Head.forward(pooled), gate, map, pooled).MoveToOuterDisposeScope();
        }
        else
        {
            var features = network.Pool(map);
            var gate = gated && _gates[member] is { } g ? g.forward(gateInput!) : ones_like(features);
            var pooled = features.mul(gate);
            return new MemberForward(network.Head.forward(pooled), gate.view(n, c, 1, 1), map, pooled).MoveToOuterDisposeScope();
        }
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
            var gateInput = network.IsGated(member) ? network.GateInput(normalized, member) : null;
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

    // Members 0…count−1 in order, each gate fed by what the members before it say about the input.
    private (List<MemberForward> Results, List<Tensor> Pieces) Run(Tensor normalized, int count)
    {
        var results = new List<MemberForward>();
        var pieces = new List<Tensor>();
        for (int i = 0; i < count; i++)
        {
            var forward = Member(normalized, i, IsGated(i) ? Combine(pieces) : null);
            results.Add(forward);
            var head = _members[i].Head.weight;
            var predicted = forward.Logits.argmax(1);
            pieces.Add(IsSpatial
                ? SpatialGateRule.Concentration(forward.GatedMap(), head, predicted)
                : ChannelImportance.Contributions(forward.GatedFeatures, head, predicted));
        }
        return (results, pieces);
    }

    private Tensor Combine(List<Tensor> pieces) => IsSpatial ? stack(pieces, 1) : cat(pieces, 1);

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
