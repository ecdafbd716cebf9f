using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.LayerMasking.Engine.Nodes;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.LayerMasking.Engine;

/// <summary>
/// Layer masking (Balasubramanian &amp; Feizi, "Towards Improved Input Masking for Convolutional Neural
/// Networks", ICCV 2023) over an existing TorchSharp CNN: the keep-mask travels through every layer, removed
/// positions are zeroed before each layer that mixes neighbours, and each convolution sees a neighbour-padded
/// input. The network's output then depends only on the kept pixels.
/// </summary>
/// <remarks>
/// <para>The graph references the network's own parameters. With <c>foldBatchNorm</c> (the default) each
/// convolution's BatchNorm is folded into a derived weight the first time an inference pass needs it (the plain pass
/// and the autograd path never do); call <see cref="Refresh"/> after changing the weights.</para>
/// <para>Gradients: the caller decides. Under <c>no_grad</c> (as ML.NET transforms run) the fast path works in place on
/// folded weights; with gradients enabled (<c>torch.is_grad_enabled()</c>) it runs out of place on the module's own
/// parameters, so <c>backward()</c> reaches the kept pixels and every weight. Removed pixels get exactly zero gradient:
/// the output does not depend on them.</para>
/// <para>BatchNorm always uses its running statistics (inference semantics), whatever the module's mode.</para>
/// <para>Not thread-safe for concurrent calls that <see cref="Refresh"/>; forward calls themselves share nothing mutable.</para>
/// </remarks>
public sealed class LayerMaskedNetwork : IDisposable
{
    private readonly ChainNode _graph;
    private readonly LinearNode? _head;
    private readonly ChainNode _body;

    private LayerMaskedNetwork(nn.Module network, ChainNode graph)
    {
        Network = network;
        _graph = graph;
        (_body, _head) = SplitHead(graph);
    }

    /// <summary>
    /// The penultimate features are what enters the final Linear classifier, also when it closes a nested classifier
    /// (torchvision's <c>classifier</c> Sequential): the graph without that Linear, and the Linear.
    /// </summary>
    private static (ChainNode Body, LinearNode? Head) SplitHead(ChainNode graph)
    {
        if (graph.Nodes.Count == 0) return (graph, null);
        var rest = graph.Nodes.Take(graph.Nodes.Count - 1);
        switch (graph.Nodes[^1])
        {
            case LinearNode head:
                return (new ChainNode(graph.Path, rest.ToList()), head);
            case ChainNode inner when SplitHead(inner) is (var innerBody, { } head):
                return (new ChainNode(graph.Path, rest.Append(innerBody).ToList()), head);
            default:
                return (graph, null);
        }
    }

    /// <summary>Reads <paramref name="network"/> into a layer-masking graph.</summary>
    /// <param name="network">A supported CNN; its parameters are used in place.</param>
    /// <param name="foldBatchNorm">Fold each convolution's BatchNorm into derived weights (faster; same outputs up to float rounding).</param>
    /// <exception cref="NotSupportedException">The network contains a module layer masking cannot handle; the message names it.</exception>
    public static LayerMaskedNetwork Create(nn.Module network, bool foldBatchNorm = true) =>
        new(network, NetworkGraph.Compile(network, foldBatchNorm));

    /// <summary>The wrapped network.</summary>
    public nn.Module Network { get; }

    /// <summary>True when the network ends in a Linear layer, so <see cref="MaskedForwardResult.Features"/> are available.</summary>
    public bool HasFeatureHead => _head is not null;

    /// <summary>Layer-masked forward pass: the network's output for the kept pixels only.</summary>
    /// <param name="images">[batch, channels, height, width], normalised as the network expects.</param>
    /// <param name="keep">[batch, height, width] or [batch, 1, height, width]; 1 = kept, 0 = removed.</param>
    public Tensor Forward(Tensor images, Tensor keep) => ForwardWithFeatures(images, keep).Logits;

    /// <summary>Layer-masked forward pass that also returns the penultimate features.</summary>
    public MaskedForwardResult ForwardWithFeatures(Tensor images, Tensor keep)
    {
        using var scope = NewDisposeScope();
        return ForwardChecked(images, KeepMask.Normalize(images, keep)).MoveToOuterDisposeScope();
    }

    /// <summary><see cref="ForwardWithFeatures"/> for a mask already made by <see cref="KeepMask.Normalize"/> (or checked by the caller and made by <see cref="KeepMask.Reshape"/>).</summary>
    internal MaskedForwardResult ForwardChecked(Tensor images, Tensor mask)
    {
        using var scope = NewDisposeScope();
        using var masks = new MaskAlgebra(inPlace: !is_grad_enabled());
        return Fast(images, masks.Root(mask), masks);
    }

    /// <summary>
    /// Keeps <paramref name="keep"/> and what layer masking derives from it for several passes
    /// (<see cref="ForwardPrepared"/>): the mask-only work is done by the first pass and reused by the rest.
    /// </summary>
    /// <param name="keep">[batch, height, width] or [batch, 1, height, width], values 0 or 1 (checked).</param>
    /// <param name="dtype">The floating type of the images it will serve.</param>
    /// <param name="device">Their device.</param>
    internal static PreparedKeepMask Prepare(Tensor keep, ScalarType dtype, Device device)
    {
        ArgumentNullException.ThrowIfNull(keep);
        using var scope = NewDisposeScope();
        var shaped = keep.dim() == 3 ? keep.unsqueeze(1) : keep;
        using var probe = empty(new long[] { shaped.shape[0], 1, shaped.shape[^2], shaped.shape[^1] }, dtype: dtype, device: device);
        return new PreparedKeepMask(KeepMask.Normalize(probe, shaped).contiguous());
    }

    /// <summary>
    /// <see cref="ForwardWithFeatures"/> under prepared masks, one per image: the same values as a pass with the
    /// mask itself, without re-deriving pooled masks, ANDs or padding coefficients. Inference only (inside <c>no_grad</c>).
    /// </summary>
    /// <exception cref="InvalidOperationException">Gradients are enabled.</exception>
    /// <exception cref="ArgumentException">The batch sizes or image sizes differ.</exception>
    /// <exception cref="InvalidOperationException">The masks already served another network.</exception>
    internal MaskedForwardResult ForwardPrepared(Tensor images, PreparedKeepMask prepared)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(prepared);
        if (is_grad_enabled())
            throw new InvalidOperationException("Prepared keep-masks serve the inference path only; run the pass inside no_grad.");
        var shape = prepared.Root.Tensor.shape;
        if (images.dim() != 4 || images.shape[0] != shape[0] || images.shape[2] != shape[2] || images.shape[3] != shape[3])
            throw new ArgumentException(
                $"The prepared masks are [{string.Join(", ", shape)}]; the images [{string.Join(", ", images.shape)}] do not match them.", nameof(images));
        prepared.BindTo(this);
        using var scope = NewDisposeScope();
        return Fast(images, prepared.Root, prepared.Algebra);
    }

    private MaskedForwardResult Fast(Tensor images, MaskHandle root, MaskAlgebra masks)
    {
        // where(), not a product: removed pixels may hold anything, even NaN, without reaching the output.
        // The input stays in the caller's layout: padding a 3-channel image is faster channels-first, and the first
        // convolution's channels-last weights switch the layout for everything after it.
        var start = new MaskedActivation(where(root.Tensor.GreaterThan(0), images, 0f), root, clean: true);
        // A network that ends on a spatial map (no global pool) hands it out zeroed where removed, as the reference does.
        var body = _body.Fast(start, masks, inputShared: false).CleanValues(masks.InPlace);
        return Finish(body);
    }

    /// <summary>
    /// The same computation done literally as the paper's reference implementation describes it (k padding
    /// iterations per k×k convolution, masks recomputed at every layer, BatchNorm unfolded). Slower; it
    /// exists to check the fast path and to measure what the shortcuts save.
    /// </summary>
    public MaskedForwardResult ForwardReference(Tensor images, Tensor keep)
    {
        using var scope = NewDisposeScope();
        var mask = KeepMask.Normalize(images, keep);
        using var masks = new MaskAlgebra(inPlace: false);
        var start = new MaskedActivation(images * mask, masks.Root(mask), clean: true);
        var body = _body.Reference(start, masks).Values;
        return Finish(body);
    }

    /// <summary>The ordinary forward pass through the same graph (BatchNorm with running statistics).</summary>
    public MaskedForwardResult ForwardPlain(Tensor images)
    {
        using var scope = NewDisposeScope();
        return Finish(_body.Plain(images));
    }

    private MaskedForwardResult Finish(Tensor body)
    {
        if (_head is null)
            return new MaskedForwardResult(body.MoveToOuterDisposeScope(), null);
        var logits = _head.Plain(body);
        return new MaskedForwardResult(logits.MoveToOuterDisposeScope(), body.MoveToOuterDisposeScope());
    }

    /// <summary>Drops the folded weights after the network's parameters changed; the next inference pass re-derives them.</summary>
    public void Refresh() => _graph.Refresh();

    /// <summary>Every node of the graph but the chains, in forward order (for tests: what the engine read the network as).</summary>
    internal IReadOnlyList<GraphNode> Layers => Flatten(_graph).ToList();

    /// <summary>How many convolutions hold folded BatchNorm weights right now (for tests: only passes that use them fold).</summary>
    internal int FoldedConvolutions => Flatten(_graph).OfType<ConvolutionNode>().Count(c => c.HasFoldedWeights);

    /// <summary>Releases the derived (folded) weights; the network itself is not disposed.</summary>
    public void Dispose()
    {
        foreach (var node in Flatten(_graph).OfType<ConvolutionNode>())
            node.ReleaseDerived();
    }

    /// <summary>The node and everything inside it, in forward order (a composite before its parts).</summary>
    private static IEnumerable<GraphNode> Flatten(GraphNode node) => node switch
    {
        ChainNode c => c.Nodes.SelectMany(Flatten),
        ResidualNode r => r.Children.SelectMany(Flatten).Prepend(r),
        ConcatNode c => c.Branches.SelectMany(Flatten).Prepend(c),
        _ => [node],
    };
}
