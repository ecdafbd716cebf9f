using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// A TorchSharp classifier seen as a function of pixel-space images: the network's per-channel normalisation is
/// part of the function, so gradients are with respect to the pixels a user sees. Gradients flow when the caller
/// enables them; this class never decides the gradient mode.
/// </summary>
public sealed class TorchClassifier
{
    /// <summary>Wraps <paramref name="network"/> (used in place; put it in eval mode).</summary>
    /// <param name="network">Maps normalised images [N, C, H, W] to logits [N, classes].</param>
    /// <param name="normalization">The normalisation the network was trained with.</param>
    /// <param name="device">The network's device; every tensor this class makes goes there.</param>
    public TorchClassifier(nn.Module<Tensor, Tensor> network, ChannelNormalization normalization, Device? device = null)
    {
        Network = network ?? throw new ArgumentNullException(nameof(network));
        Normalization = normalization ?? throw new ArgumentNullException(nameof(normalization));
        Device = device ?? CPU;
    }

    /// <summary>The network.</summary>
    public nn.Module<Tensor, Tensor> Network { get; }

    /// <summary>The normalisation applied to pixels before the network.</summary>
    public ChannelNormalization Normalization { get; }

    /// <summary>Where the computation runs.</summary>
    public Device Device { get; }

    /// <summary>Scores [N, classes] of pixel-space images [N, C, H, W]; logits or softmax probabilities.</summary>
    public Tensor Scores(Tensor pixels, ScoreKind kind)
    {
        var logits = Network.forward(Normalization.Apply(pixels));
        return kind == ScoreKind.Logit ? logits : logits.softmax(1);
    }

    /// <summary>The target column of <see cref="Scores"/>, shape [N].</summary>
    public Tensor TargetScores(Tensor pixels, Tensor targets, ScoreKind kind) =>
        Scores(pixels, kind).gather(1, targets.unsqueeze(1)).squeeze(1);

    /// <summary>
    /// The gradient of each row's target score with respect to its pixels, [N, C, H, W], and the scores [N]
    /// (both detached). Enables gradients for this call only.
    /// </summary>
    public (Tensor Gradients, Tensor Scores) Gradients(Tensor pixels, Tensor targets, ScoreKind kind)
    {
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var input = pixels.detach().clone().requires_grad_(true);
        var scores = TargetScores(input, targets, kind);
        // Rows are independent, so the gradient of the sum is every row's own gradient.
        var gradient = autograd.grad([scores.sum()], [input])[0];
        return (gradient.detach().MoveToOuterDisposeScope(), scores.detach().MoveToOuterDisposeScope());
    }
}
