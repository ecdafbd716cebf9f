using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// GradientSHAP (Lundberg &amp; Lee 2017, as Captum defines it): for each of <see cref="Samples"/> draws, a baseline b
/// from <see cref="BaselineSet"/>, α ~ U(0, 1) and Gaussian noise (σ = <see cref="NoiseFraction"/> × the image's
/// range) on the input x̃; the attribution is the mean of ∂f/∂x(b + α(x̃ − b)) · (x̃ − b). Its sum over pixels equals
/// f(x) − E[f(b)] in expectation. All draws come from the row's seed; the rows × samples points are evaluated in
/// passes of the internal batch size.
/// <para>With a layer, the same estimator runs in that layer's activation space: x̃ and b (images drawn as above) are
/// replaced by their activations (<see cref="AttributionBaseline.Zero"/>: the zero activation), the point
/// a(b) + α(a(x̃) − a(b)) is interpolated there and the network after the layer is differentiated; the result is
/// [N, channels, h, w] of the layer. Captum's <c>LayerGradientShap</c> interpolates in input space instead; the two
/// agree when the rest of the network is linear (global average pooling + a linear head), where the gradient is constant.</para>
/// </summary>
public sealed class GradientShap : GradientMethod
{
    /// <summary>Creates the method.</summary>
    /// <param name="classifier">The network.</param>
    /// <param name="baselines">The baseline distribution, drawn from uniformly (at least one).</param>
    /// <param name="samples">Draws per row (Captum's <c>n_samples</c>, 5 there), at least 1.</param>
    /// <param name="noiseFraction">σ of the input noise as a fraction of the image's range (Captum's <c>stdevs</c>, 0 there).</param>
    /// <param name="output">The output explained.</param>
    /// <param name="device">Where to compute; null for the classifier's device, else the CPU.</param>
    /// <param name="layerMasking">Take gradients through the layer-masked network when a batch carries keep-masks.</param>
    /// <param name="internalBatchSize">Images per pass.</param>
    /// <param name="seed">Seed of every draw.</param>
    /// <param name="layerName">Attribute the output of this module path (e.g. "layer4") instead of the pixels; the network's
    /// forward pass must run its children in order (the library's ResNet, nn.Sequential). Null: the pixels.</param>
    public GradientShap(ImageClassifier classifier, IReadOnlyList<AttributionBaseline> baselines, int samples = 20, double noiseFraction = 0,
        ScoreKind output = ScoreKind.Logit, int internalBatchSize = 64, int seed = 0, Device? device = null, bool layerMasking = false,
        string? layerName = null)
        : this(classifier, layerName is null ? null : new LayerPath(Checked(classifier).Network, layerName), baselines, samples, noiseFraction,
            output, internalBatchSize, seed, device, layerMasking)
    {
    }

    /// <summary>Creates the method on a network split at <paramref name="layer"/> (null: the pixels).</summary>
    internal GradientShap(ImageClassifier classifier, IAttributedLayer? layer, IReadOnlyList<AttributionBaseline> baselines, int samples,
        double noiseFraction, ScoreKind output, int internalBatchSize, int seed, Device? device, bool layerMasking = false)
        : base(classifier, output, internalBatchSize, device, layerMasking, layer)
    {
        ArgumentNullException.ThrowIfNull(baselines);
        if (baselines.Count == 0) throw new ArgumentException("GradientSHAP needs at least one baseline.", nameof(baselines));
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), samples, "GradientSHAP needs at least one sample.");
        if (!(noiseFraction >= 0) || !double.IsFinite(noiseFraction))
            throw new ArgumentOutOfRangeException(nameof(noiseFraction), noiseFraction, "The noise fraction must be finite and non-negative.");
        BaselineSet = baselines.ToArray();
        Samples = samples;
        NoiseFraction = noiseFraction;
        Seed = seed;
    }

    /// <summary>The baselines drawn from.</summary>
    public IReadOnlyList<AttributionBaseline> BaselineSet { get; }

    /// <summary>Draws per row.</summary>
    public int Samples { get; }

    /// <summary>σ of the input noise as a fraction of the image's range.</summary>
    public double NoiseFraction { get; }

    /// <summary>Seed of every draw.</summary>
    public int Seed { get; }

    /// <inheritdoc/>
    public override string Name => "GradientShap";

    /// <inheritdoc/>
    public override AttributionOutput Attribute(AttributionBatch batch)
    {
        int rows = batch.Count, s = Samples;
        var pixels = batch.Pixels.to(Torch.Device);
        // Every draw of a point (row, sample) is fixed before the passes, so the pass size changes nothing.
        var starts = new Tensor[rows * s];
        var ends = new Tensor[rows * s];
        var alphas = new float[rows * s];
        var fromZero = new float[rows * s];
        for (int i = 0; i < rows; i++)
        {
            var image = pixels.narrow(0, i, 1);
            double sigma = NoiseFraction * (image.max().item<float>() - image.min().item<float>());
            using var generator = AttributionSeeds.For(Seed, AttributionSeeds.GradientShap, batch.RowIds[i]);
            var draws = rand(new long[] { s, 2 }, generator: generator).data<float>().ToArray();
            var noise = randn(new long[] { s, image.shape[1], image.shape[2], image.shape[3] }, generator: generator).to(Torch.Device);
            for (int k = 0; k < s; k++)
            {
                var choice = BaselineSet[Math.Min((int)(draws[2 * k] * BaselineSet.Count), BaselineSet.Count - 1)];
                starts[i * s + k] = Baselines(image, choice, [batch.RowIds[i]], Seed, k);
                fromZero[i * s + k] = choice == AttributionBaseline.Zero ? 1 : 0;
                ends[i * s + k] = sigma > 0 ? image.Plus(noise.narrow(0, k, 1).Times(sigma)) : image;
                alphas[i * s + k] = draws[2 * k + 1];
            }
        }
        var baseline = cat(starts, 0);
        var end = cat(ends, 0);
        if (Torch.Layer is not null)
        {
            // The draws' activations; a Zero baseline is the zero activation, not a black image's, so only the other
            // draws' baselines take the forward pass to the layer.
            end = ToPoints(end);
            var imageDraws = Enumerable.Range(0, rows * s).Where(p => fromZero[p] == 0).Select(p => (long)p).ToArray();
            var layerBaseline = zeros_like(end);
            if (imageDraws.Length > 0)
            {
                var index = tensor(imageDraws, device: Torch.Device);
                layerBaseline.index_copy_(0, index, ToPoints(baseline.index_select(0, index)));
            }
            baseline = layerBaseline;
        }
        var difference = end.sub(baseline);
        var alpha = tensor(alphas, device: Torch.Device).view(-1, 1, 1, 1);
        var total = zeros_like(difference);
        GradientBatches.Run(Torch, Output, rows * s, InternalBatchSize,
            (first, length) => baseline.narrow(0, first, length).Plus(difference.narrow(0, first, length).mul(alpha.narrow(0, first, length))),
            point => batch.Targets[point / s],
            (first, length, gradients, _) => total.narrow(0, first, length).copy_(gradients.mul(difference.narrow(0, first, length))),
            batch.Keep is null ? null : (first, length) => KeepOf(batch.Keep, tensor(Enumerable.Range(first, length).Select(p => (long)(p / s)).ToArray())));
        var result = total.view(rows, s, total.shape[1], total.shape[2], total.shape[3]).mean([1]);
        return new AttributionOutput(result);
    }
}
