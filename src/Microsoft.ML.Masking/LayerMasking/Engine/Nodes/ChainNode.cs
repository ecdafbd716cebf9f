using static TorchSharp.torch;

namespace Microsoft.ML.Masking.LayerMasking.Engine.Nodes;

/// <summary>
/// Layers applied one after another (a Sequential, a ResNet's top level, a residual branch). Each layer runs
/// in its own dispose scope and the previous activation is freed as soon as the next exists, so a forward
/// pass holds a few activations at a time rather than all of them.
/// </summary>
internal sealed class ChainNode(string path, IReadOnlyList<GraphNode> nodes) : GraphNode(path)
{
    public IReadOnlyList<GraphNode> Nodes { get; } = nodes;

    public override Tensor Plain(Tensor x)
    {
        var current = x;
        foreach (var node in Nodes)
        {
            Tensor next;
            using (NewDisposeScope())
            {
                next = node.Plain(current);
                if (!ReferenceEquals(next, current)) next.MoveToOuterDisposeScope();
            }
            if (!ReferenceEquals(next, current) && !ReferenceEquals(current, x)) current.Dispose();
            current = next;
        }
        return current;
    }

    public override MaskedActivation Reference(MaskedActivation input, MaskAlgebra masks) =>
        Run(input, (node, a, _) => node.Reference(a, masks), inputShared: true);

    public override MaskedActivation Fast(MaskedActivation input, MaskAlgebra masks, bool inputShared) =>
        Run(input, (node, a, shared) => node.Fast(a, masks, shared), inputShared);

    private MaskedActivation Run(MaskedActivation input, Func<GraphNode, MaskedActivation, bool, MaskedActivation> step, bool inputShared)
    {
        var a = input;
        foreach (var node in Nodes)
        {
            bool fresh = !ReferenceEquals(a.Values, input.Values);
            MaskedActivation next;
            using (NewDisposeScope())
            {
                // Values stay shared for as long as they are the very tensor this chain was given.
                next = step(node, a, inputShared && !fresh);
                if (!ReferenceEquals(next.Values, a.Values)) next.Values.MoveToOuterDisposeScope();
            }
            if (fresh && !ReferenceEquals(next.Values, a.Values)) a.Values.Dispose();
            a = next;
        }
        return a;
    }

    public override void Refresh()
    {
        foreach (var node in Nodes) node.Refresh();
    }
}
