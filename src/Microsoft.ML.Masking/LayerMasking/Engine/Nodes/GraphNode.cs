using static TorchSharp.torch;

namespace Microsoft.ML.Masking.LayerMasking.Engine.Nodes;

/// <summary>
/// One layer of a network as layer masking sees it. Each node runs three ways: the ordinary forward pass,
/// the paper's reference semantics step by step, and the fast path that gives the same values at kept
/// positions with fewer passes over memory.
/// </summary>
internal abstract class GraphNode
{
    protected GraphNode(string path) => Path = path;

    /// <summary>Dotted module path in the original network, for messages (e.g. "layer3.1.conv2").</summary>
    public string Path { get; }

    /// <summary>The ordinary forward pass (BatchNorm with running statistics).</summary>
    public abstract Tensor Plain(Tensor x);

    /// <summary>The reference layer-masking semantics; activations are always zero at removed positions.</summary>
    /// <param name="input">The incoming activation.</param>
    /// <param name="masks">Owner of the masks this layer makes (nothing is memoised on this path).</param>
    public abstract MaskedActivation Reference(MaskedActivation input, MaskAlgebra masks);

    /// <summary>The fast layer-masking path.</summary>
    /// <param name="input">The incoming activation.</param>
    /// <param name="masks">Memoised mask computations of this forward pass.</param>
    /// <param name="inputShared">True when another node also reads <paramref name="input"/> (a residual
    /// block's input), so the values must not be overwritten in place.</param>
    public abstract MaskedActivation Fast(MaskedActivation input, MaskAlgebra masks, bool inputShared);

    /// <summary>Recomputes anything cached from the module's parameters (folded weights).</summary>
    public virtual void Refresh() { }
}
