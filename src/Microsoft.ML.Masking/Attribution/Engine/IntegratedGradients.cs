using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// Integrated Gradients (Sundararajan et al. 2017), as Captum defines it: (x − b) · ∫₀¹ ∂f/∂x(b + α(x − b)) dα,
/// approximated by an <see cref="IntegrationRule"/>. Every row's steps are evaluated in passes of the internal batch
/// size, so rows × steps never sit in memory at once. The row value is Captum's convergence delta
/// Σ attribution − (f(x) − f(b)).
/// <para>With a layer (Captum's <c>LayerIntegratedGradients</c>) the path runs in that layer's activation space, from
/// the baseline image's activation (or the zero activation, <see cref="AttributionBaseline.Zero"/>) to the input's,
/// and the network after the layer is integrated: the result is [N, channels, h, w] of the layer, and completeness
/// holds there (Σ attribution = f(x) − f(b) up to the quadrature error; exactly, for a linear rest of the network such
/// as global average pooling + a linear head, whatever the rule whose weights sum to 1).</para>
/// </summary>
public sealed class IntegratedGradients : GradientMethod
{
    private readonly double[] _alphas, _weights;

    /// <summary>Creates the method.</summary>
    /// <param name="classifier">The network.</param>
    /// <param name="steps">Integration steps (Captum's <c>n_steps</c>; 50 there and here).</param>
    /// <param name="rule">The integration rule (Captum's default: Gauss–Legendre).</param>
    /// <param name="baseline">The path's start.</param>
    /// <param name="output">The output explained.</param>
    /// <param name="device">Where to compute; null for the classifier's device, else the CPU.</param>
    /// <param name="layerMasking">Take gradients through the layer-masked network when a batch carries keep-masks.</param>
    /// <param name="internalBatchSize">Images per forward/backward pass.</param>
    /// <param name="seed">Seed of a <see cref="AttributionBaseline.Uniform"/> baseline.</param>
    /// <param name="layerName">Attribute the output of this module path (e.g. "layer4") instead of the pixels; the network's
    /// forward pass must run its children in order (the library's ResNet, nn.Sequential). Null: the pixels.</param>
    public IntegratedGradients(ImageClassifier classifier, int steps = 50, IntegrationRule rule = IntegrationRule.GaussLegendre,
        AttributionBaseline baseline = AttributionBaseline.Black, ScoreKind output = ScoreKind.Logit, int internalBatchSize = 64, int seed = 0, Device? device = null, bool layerMasking = false,
        string? layerName = null)
        : this(classifier, layerName is null ? null : new LayerPath(Checked(classifier).Network, layerName), steps, rule, baseline, output, internalBatchSize, seed, device, layerMasking)
    {
    }

    /// <summary>Creates the method on a network split at <paramref name="layer"/> (null: the pixels).</summary>
    internal IntegratedGradients(ImageClassifier classifier, IAttributedLayer? layer, int steps, IntegrationRule rule, AttributionBaseline baseline,
        ScoreKind output, int internalBatchSize, int seed, Device? device, bool layerMasking = false)
        : base(classifier, output, internalBatchSize, device, layerMasking, layer)
    {
        (_alphas, _weights) = IntegrationRules.For(rule, steps);
        Steps = steps;
        Rule = rule;
        Baseline = baseline;
        Seed = seed;
    }

    /// <summary>Integration steps.</summary>
    public int Steps { get; }

    /// <summary>The integration rule.</summary>
    public IntegrationRule Rule { get; }

    /// <summary>The baseline.</summary>
    public AttributionBaseline Baseline { get; }

    /// <summary>Seed of a random baseline.</summary>
    public int Seed { get; }

    /// <inheritdoc/>
    public override string Name => "IntegratedGradients";

    /// <inheritdoc/>
    public override AttributionOutput Attribute(AttributionBatch batch)
    {
        var pixels = batch.Pixels.to(Torch.Device);
        var points = ToPoints(pixels);
        var baselines = BaselinePoints(pixels, points, Baseline, batch.RowIds, Seed);
        return Integrate(points, baselines, batch.Targets, batch.Keep);
    }

    /// <summary>
    /// IG from explicit baselines [N, C, H, W] (Captum's <c>baselines</c> argument), with the convergence delta per row.
    /// For a layer attribution both are activations of the layer.
    /// </summary>
    public AttributionOutput Integrate(Tensor pixels, Tensor baselines, IReadOnlyList<long> targets) => Integrate(pixels, baselines, targets, null);

    /// <summary>
    /// <see cref="Integrate(Tensor, Tensor, IReadOnlyList{long})"/> through the layer-masked network when
    /// <paramref name="keep"/> ([N, H, W], 1 kept) is given: removed pixels get zero attribution, and the delta compares
    /// with the masked network's f(x) − f(baseline).
    /// </summary>
    public AttributionOutput Integrate(Tensor pixels, Tensor baselines, IReadOnlyList<long> targets, Tensor? keep)
    {
        int rows = (int)pixels.shape[0], steps = Steps;
        var difference = pixels.sub(baselines);
        var total = zeros_like(pixels);
        var alphas = tensor(_alphas.Select(a => (float)a).ToArray(), device: Torch.Device);
        var weights = tensor(_weights.Select(a => (float)a).ToArray(), device: Torch.Device);
        GradientBatches.Run(Torch, Output, rows * steps, InternalBatchSize,
            (first, length) =>
            {
                var (rowIndex, stepIndex) = Points(first, length, steps);
                var alpha = alphas.index_select(0, stepIndex).view(-1, 1, 1, 1);
                return baselines.index_select(0, rowIndex).Plus(difference.index_select(0, rowIndex).mul(alpha));
            },
            point => targets[point / steps],
            (first, length, gradients, _) =>
            {
                var (_, stepIndex) = Points(first, length, steps);
                var weighted = gradients.mul(weights.index_select(0, stepIndex).view(-1, 1, 1, 1));
                // Points of a pass are consecutive, so each row's steps form one run.
                for (int start = 0; start < length;)
                {
                    int row = (first + start) / steps;
                    int run = Math.Min(length - start, (row + 1) * steps - (first + start));
                    total.narrow(0, row, 1).PlusInPlace(weighted.narrow(0, start, run).sum(0, keepdim: true));
                    start += run;
                }
            },
            keep is null ? null : (first, length) => KeepOf(keep, Points(first, length, steps).Rows));
        var attributions = total.mul(difference);
        var delta = attributions.sum([1, 2, 3]).sub(TargetScores(pixels, targets, keep).sub(TargetScores(baselines, targets, keep)));
        return new AttributionOutput(attributions, delta.cpu().data<float>().ToArray());
    }

    private (Tensor Rows, Tensor Steps) Points(int first, int length, int steps) =>
        (tensor(Enumerable.Range(first, length).Select(p => (long)(p / steps)).ToArray(), device: Torch.Device),
         tensor(Enumerable.Range(first, length).Select(p => (long)(p % steps)).ToArray(), device: Torch.Device));
}
