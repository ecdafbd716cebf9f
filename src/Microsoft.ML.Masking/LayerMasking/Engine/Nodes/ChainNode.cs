using static TorchSharp.torch;

namespace Microsoft.ML.Masking.LayerMasking.Engine.Nodes;

/// <summary>Layers applied one after another (a Sequential, a ResNet's top level, a residual branch).</summary>
internal sealed class ChainNode(string path, IReadOnlyList<GraphNode> nodes) : GraphNode(path)
{
    public IReadOnlyList<GraphNode> Nodes { get; } = nodes;

    public override Tensor Plain(Tensor x)
    {
        foreach (var node in Nodes) x = node.Plain(x);
        return x;
    }

    public override MaskedActivation Reference(MaskedActivation input)
    {
        foreach (var node in Nodes) input = node.Reference(input);
        return input;
    }

    public override MaskedActivation Fast(MaskedActivation input, MaskAlgebra masks, bool inputShared)
    {
        var shared = input.Values;
        var a = input;
        foreach (var node in Nodes)
            // Values stay shared for as long as they are the very tensor this chain was given.
            a = node.Fast(a, masks, inputShared && ReferenceEquals(a.Values, shared));
        return a;
    }

    public override void Refresh()
    {
        foreach (var node in Nodes) node.Refresh();
    }
}
