using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Models;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Ensemble.Engine;

/// <summary>
/// Feature distillation (as in DVERGE, restricted to chosen channels): moves each image, within an L∞ ball of radius
/// <see cref="Epsilon"/> in raw pixel units and inside the pixel range, so that a frozen network's pooled features on
/// the chosen channels match those of a partner image. Projected gradient descent with momentum (MI-FGSM): the
/// gradient of the squared feature distance is normalised by its mean absolute value per image, accumulated with
/// <see cref="Momentum"/>, and a step of <see cref="StepSize"/> is taken along its sign, then projected.
/// </summary>
/// <param name="Epsilon">L∞ budget in raw pixel units.</param>
/// <param name="Steps">PGD steps.</param>
/// <param name="StepSize">Per-step change of each pixel.</param>
/// <param name="Momentum">Decay of the accumulated gradient (0: plain PGD).</param>
/// <param name="PixelMin">Lowest pixel value of the data.</param>
/// <param name="PixelMax">Highest pixel value of the data.</param>
internal sealed record FeatureDistillationAttack(double Epsilon, int Steps, double StepSize, double Momentum, float PixelMin, float PixelMax)
{
    /// <summary>
    /// The squared distance per image [N] between <paramref name="network"/>'s pooled features of <paramref name="images"/>
    /// and <paramref name="targetFeatures"/> on <paramref name="channels"/> (raw images; normalised here).
    /// </summary>
    public static Tensor Distance(ResNet network, ChannelNormalization normalization, Tensor images, Tensor channels, Tensor targetFeatures)
    {
        using var scope = NewDisposeScope();
        var features = network.Features(normalization.Apply(images)).index_select(1, channels);
        var difference = features.sub(targetFeatures);
        return difference.mul(difference).sum(1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Distilled images: <paramref name="images"/> [N, C, H, W] (raw) moved so that <paramref name="network"/>'s features
    /// on <paramref name="channels"/> (int64) approach those of <paramref name="targets"/> [N, C, H, W]. The network's
    /// parameters should not require gradients (the attack needs only the input's); it runs with gradients enabled.
    /// </summary>
    public Tensor Run(ResNet network, ChannelNormalization normalization, Tensor images, Tensor targets, Tensor channels)
    {
        using var scope = NewDisposeScope();
        using var enableGrad = enable_grad();
        Tensor targetFeatures;
        using (no_grad())
            targetFeatures = network.Features(normalization.Apply(targets)).index_select(1, channels);
        var delta = zeros_like(images);
        var velocity = zeros_like(images);
        for (int step = 0; step < Steps; step++)
        {
            using var stepScope = NewDisposeScope();
            var input = images.Plus(delta).requires_grad_(true);
            var loss = Distance(network, normalization, input, channels, targetFeatures).sum();
            var gradient = autograd.grad([loss], [input])[0];
            using (no_grad())
            {
                var scale = gradient.abs().mean([1, 2, 3], keepdim: true).ClampMin(1e-12);
                velocity.TimesInPlace(Momentum).PlusInPlace(gradient.div(scale));
                var moved = images.Plus(delta).sub(velocity.sign().Times(StepSize)).Clamp(PixelMin, PixelMax);
                delta.copy_(moved.sub(images).Clamp(-Epsilon, Epsilon));
            }
        }
        return images.Plus(delta).detach().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// For each image of a batch, the index of another image of a different class: a random cyclic shift (drawn from
    /// <paramref name="generator"/>), then, where the shifted image has the same class, the next one that does not.
    /// An image whose class fills the whole batch keeps its shifted partner.
    /// </summary>
    public static long[] DifferentClassPartners(long[] labels, Generator generator)
    {
        int n = labels.Length;
        var partners = new long[n];
        if (n < 2)
            return partners;
        long shift;
        using (var draw = randint(1, n, [1], ScalarType.Int64, generator: generator))
            shift = draw.item<long>();
        for (int k = 0; k < n; k++)
        {
            long candidate = (k + shift) % n;
            for (int t = 0; t < n && labels[candidate] == labels[k]; t++)
                candidate = (candidate + 1) % n;
            partners[k] = labels[candidate] == labels[k] ? (k + shift) % n : candidate;
        }
        return partners;
    }
}
