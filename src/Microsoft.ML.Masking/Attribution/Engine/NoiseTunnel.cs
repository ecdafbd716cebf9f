using Microsoft.ML.Masking.Core.Segmentation;
using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// NoiseTunnel around any attribution method (Captum's <c>NoiseTunnel</c>): the method runs on <see cref="Samples"/>
/// copies of each image with Gaussian noise added, and the results are combined by <see cref="Kind"/>. The noise's σ is
/// <see cref="NoiseFraction"/> × (max − min) of each image, as SmoothGrad defines it (Captum takes an absolute σ).
/// All copies of a batch go to the inner method at once, which evaluates them in passes of its internal batch size.
/// </summary>
public sealed class NoiseTunnel : IAttributionMethod
{
    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The method smoothed.</param>
    /// <param name="kind">How the copies' attributions are combined.</param>
    /// <param name="samples">Noisy copies per image (Captum's <c>nt_samples</c>), at least 1.</param>
    /// <param name="noiseFraction">σ as a fraction of the image's value range, non-negative.</param>
    /// <param name="seed">Seed of the noise; the draws depend on it and the row id only.</param>
    public NoiseTunnel(IAttributionMethod inner, NoiseTunnelKind kind = NoiseTunnelKind.SmoothGrad, int samples = 10, double noiseFraction = 0.15, int seed = 0)
    {
        Inner = inner ?? throw new ArgumentNullException(nameof(inner));
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), samples, "NoiseTunnel needs at least one sample.");
        if (!(noiseFraction >= 0) || !double.IsFinite(noiseFraction))
            throw new ArgumentOutOfRangeException(nameof(noiseFraction), noiseFraction, "The noise fraction must be finite and non-negative.");
        Kind = kind;
        Samples = samples;
        NoiseFraction = noiseFraction;
        Seed = seed;
    }

    /// <summary>The method smoothed.</summary>
    public IAttributionMethod Inner { get; }

    /// <summary>How the copies are combined.</summary>
    public NoiseTunnelKind Kind { get; }

    /// <summary>Noisy copies per image.</summary>
    public int Samples { get; }

    /// <summary>σ as a fraction of each image's value range.</summary>
    public double NoiseFraction { get; }

    /// <summary>Seed of the noise.</summary>
    public int Seed { get; }

    /// <inheritdoc/>
    public string Name => $"NoiseTunnel({Kind}, {Inner.Name})";

    /// <inheritdoc/>
    public bool NeedsSegments => Inner.NeedsSegments;

    /// <inheritdoc/>
    public int OutputChannels(int imageChannels) => Inner.OutputChannels(imageChannels);

    /// <inheritdoc/>
    public AttributionOutput Attribute(AttributionBatch batch)
    {
        int rows = batch.Count, s = Samples;
        var pixels = batch.Pixels;
        var copies = new Tensor[rows * s];
        var targets = new long[rows * s];
        var rowIds = new long[rows * s];
        var segments = batch.Segments is null ? null : new SegmentMap[rows * s];
        for (int i = 0; i < rows; i++)
        {
            var image = pixels.narrow(0, i, 1);
            double sigma = NoiseFraction * (image.max().item<float>() - image.min().item<float>());
            for (int k = 0; k < s; k++)
            {
                using var generator = AttributionSeeds.For(Seed, AttributionSeeds.NoiseTunnel, batch.RowIds[i], k);
                var noise = randn(image.shape, generator: generator).to(pixels.device);
                copies[i * s + k] = image.Plus(noise.Times(sigma));
                targets[i * s + k] = batch.Targets[i];
                // Distinct ids so an inner method with its own random draws (GradientSHAP) draws anew for each copy.
                rowIds[i * s + k] = batch.RowIds[i] * s + k;
                if (segments is not null) segments[i * s + k] = batch.Segments![i];
            }
        }
        // Each copy keeps its row's pixels: the noise lands on removed pixels too, but they never reach the network.
        var keep = batch.Keep?.repeat_interleave(s, 0);
        var inner = Inner.Attribute(new AttributionBatch(cat(copies, 0), targets, rowIds, segments, keep)).Attributions;
        var grouped = inner.view(rows, s, inner.shape[1], inner.shape[2], inner.shape[3]);
        var result = Kind switch
        {
            NoiseTunnelKind.SmoothGrad => grouped.mean([1]),
            NoiseTunnelKind.SmoothGradSquared => grouped.mul(grouped).mean([1]),
            _ => VarGrad(grouped),
        };
        return new AttributionOutput(result);
    }

    private static Tensor VarGrad(Tensor grouped)
    {
        var mean = grouped.mean([1]);
        return grouped.mul(grouped).mean([1]).sub(mean.mul(mean));
    }
}
