using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.LayerMasking.Engine;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// The attribution code's view of the project's one classifier description, <see cref="ImageClassifier"/>: its network
/// seen as a function of pixel-space images (the normalisation is part of the function, so gradients are with respect
/// to the pixels a user sees), on one resolved device, optionally with the layer-masked view of the network so scores
/// and gradients can take a keep-mask. Gradients flow when the caller enables them; this class never decides the
/// gradient mode.
/// </summary>
internal sealed class TorchClassifier
{
    private readonly LayerMaskedNetwork? _layerMasked;

    /// <summary>The view of <paramref name="classifier"/> (its network used in place; put it in eval mode).</summary>
    /// <param name="classifier">The classifier description.</param>
    /// <param name="device">The resolved device (the network's); null for the classifier's own, else the CPU.</param>
    /// <param name="layerMasking">Also build the layer-masked network (<see cref="LayerMaskedNetwork"/>), so the
    /// <c>keep</c> arguments may be given: the removed pixels then never reach the network and get zero gradient.</param>
    /// <param name="layer">For layer attribution: the network split at a layer. Scores and gradients are then functions
    /// of that layer's activation (the "points" <see cref="ToPoints"/> makes from pixels), not of the pixels.</param>
    /// <exception cref="NotSupportedException">Layer masking cannot handle a module of the network (the message names it),
    /// or both a layer and layer masking are asked for.</exception>
    public TorchClassifier(ImageClassifier classifier, Device? device = null, bool layerMasking = false, IAttributedLayer? layer = null)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        if (layerMasking && layer is not null)
            throw new NotSupportedException($"A layer attribution (layer '{layer.LayerName}') does not take keep-masks: layer masking removes pixels, not activations.");
        Layer = layer;
        Description = classifier;
        Network = classifier.Network;
        Normalization = classifier.Normalization;
        Device = device ?? classifier.Device ?? CPU;
        // No BatchNorm folding: the gradient path uses the module's own weights, and targets are one pass per batch.
        _layerMasked = layerMasking ? LayerMaskedNetwork.Create(Network, foldBatchNorm: false) : null;
    }

    /// <summary>The classifier description this is a view of.</summary>
    public ImageClassifier Description { get; }

    /// <summary>Whether scores and gradients may take a keep-mask (see the constructor's <c>layerMasking</c>).</summary>
    public bool IsLayerMasked => _layerMasked is not null;

    /// <summary>The network.</summary>
    public nn.Module<Tensor, Tensor> Network { get; }

    /// <summary>The layer attributed, or null when the pixels are.</summary>
    public IAttributedLayer? Layer { get; }

    /// <summary>
    /// The points attributed for pixel-space images [N, C, H, W]: the images themselves, or with <see cref="Layer"/> the
    /// layer's activations (computed without gradients: they are where paths start and end, not part of the graph).
    /// </summary>
    public Tensor ToPoints(Tensor pixels)
    {
        if (Layer is null)
            return pixels;
        using var _ = no_grad();
        return Layer.ToLayer(Normalization.Apply(pixels));
    }

    /// <summary>The normalisation applied to pixels before the network.</summary>
    public ChannelNormalization Normalization { get; }

    /// <summary>Where the computation runs.</summary>
    public Device Device { get; }

    /// <summary>Scores [N, classes] of pixel-space images [N, C, H, W] (with <see cref="Layer"/>: of the layer's activations); logits or softmax probabilities.</summary>
    public Tensor Scores(Tensor pixels, ScoreKind kind) => Scores(pixels, kind, null);

    /// <summary>
    /// Scores [N, classes] of pixel-space images [N, C, H, W] with the pixels where <paramref name="keep"/> ([N, H, W],
    /// 1 kept, 0 removed) is 0 removed by layer masking; the plain network when <paramref name="keep"/> is null.
    /// </summary>
    /// <exception cref="InvalidOperationException">A keep-mask is given but the classifier was made without layer masking.</exception>
    public Tensor Scores(Tensor pixels, ScoreKind kind, Tensor? keep)
    {
        Tensor logits;
        if (Layer is not null)
            logits = keep is null ? Layer.FromLayer(pixels) : throw new InvalidOperationException("A layer attribution takes no keep-mask.");
        else if (keep is null)
            logits = Network.forward(Normalization.Apply(pixels));
        else
            logits = (_layerMasked ?? throw new InvalidOperationException("This classifier was made without layer masking; pass layerMasking: true to take keep-masks."))
                .Forward(Normalization.Apply(pixels), keep);
        return kind == ScoreKind.Logit ? logits : logits.softmax(1);
    }

    /// <summary>The target column of <see cref="Scores(Tensor, ScoreKind)"/>, shape [N].</summary>
    public Tensor TargetScores(Tensor pixels, Tensor targets, ScoreKind kind) => TargetScores(pixels, targets, kind, null);

    /// <summary>The target column of <see cref="Scores(Tensor, ScoreKind, Tensor)"/>, shape [N].</summary>
    public Tensor TargetScores(Tensor pixels, Tensor targets, ScoreKind kind, Tensor? keep) =>
        Scores(pixels, kind, keep).gather(1, targets.unsqueeze(1)).squeeze(1);

    /// <summary>
    /// The gradient of each row's target score with respect to its pixels (with <see cref="Layer"/>: its layer activation), [N, C, H, W], and the scores [N]
    /// (both detached). Enables gradients for this call only.
    /// </summary>
    public (Tensor Gradients, Tensor Scores) Gradients(Tensor pixels, Tensor targets, ScoreKind kind) => Gradients(pixels, targets, kind, null);

    /// <summary>
    /// <see cref="Gradients(Tensor, Tensor, ScoreKind)"/> through the layer-masked network when <paramref name="keep"/>
    /// ([N, H, W], 1 kept) is given: removed pixels get exactly zero gradient, and their values do not reach the kept
    /// pixels' gradients.
    /// </summary>
    public (Tensor Gradients, Tensor Scores) Gradients(Tensor pixels, Tensor targets, ScoreKind kind, Tensor? keep)
    {
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var input = pixels.detach().clone().requires_grad_(true);
        var scores = TargetScores(input, targets, kind, keep);
        // Rows are independent, so the gradient of the sum is every row's own gradient.
        var gradient = autograd.grad([scores.sum()], [input])[0];
        return (gradient.detach().MoveToOuterDisposeScope(), scores.detach().MoveToOuterDisposeScope());
    }
}
