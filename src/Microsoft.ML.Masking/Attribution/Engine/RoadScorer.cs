using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.LayerMasking.Engine;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// ROAD's noisy linear imputation (Rong et al., "A Consistent and Efficient Evaluation Strategy for Attribution
/// Methods", ICML 2022) as a removal method: each removed pixel takes the weighted mean of its eight neighbours
/// (1/6 for the four direct ones, 1/12 for the diagonals, renormalised at the border), solved jointly for all
/// removed pixels, plus Gaussian noise; the network then runs on the imputed image. The imputed values carry no
/// information about the removed pixels, and unlike a constant paint they do not draw the removed region's shape.
/// </summary>
/// <remarks>
/// The paper solves the sparse linear system exactly; here it is solved by Jacobi iterations started from the kept
/// pixels' mean colour, which converge to the same solution (the system is diagonally dominant); the number of
/// iterations is the image's larger side, enough for the fill to cross any hole of the evaluations' sizes.
/// </remarks>
public sealed class RoadScorer : IPerturbationScorer
{
    private readonly TorchClassifier _classifier;

    /// <summary>Creates the scorer.</summary>
    /// <param name="classifier">The network (plain forward pass on the imputed images); it needs its classifier head.</param>
    /// <param name="output">Logits or probabilities.</param>
    /// <param name="noise">σ of the noise added to imputed pixels, in pixel units (ROAD's default 0.01 for images in [0, 1]).</param>
    /// <param name="iterations">Jacobi iterations; null for the image's larger side.</param>
    /// <param name="device">Where to compute; null for the classifier's device, else the CPU.</param>
    public RoadScorer(ImageClassifier classifier, ScoreKind output = ScoreKind.Probability, double noise = 0.01, int? iterations = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        int classCount = classifier.RequireClassifierHead("ROAD");
        _classifier = new TorchClassifier(classifier, device);
        if (!(noise >= 0) || !double.IsFinite(noise)) throw new ArgumentOutOfRangeException(nameof(noise), noise, "The noise must be finite and non-negative.");
        if (iterations is < 1) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "At least one iteration.");
        ClassCount = classCount;
        Output = output;
        Noise = noise;
        Iterations = iterations;
    }

    /// <inheritdoc/>
    public int ClassCount { get; }

    /// <inheritdoc/>
    public Device Device => _classifier.Device;

    /// <summary>Logits or probabilities.</summary>
    public ScoreKind Output { get; }

    /// <summary>σ of the imputation noise, in pixel units.</summary>
    public double Noise { get; }

    /// <summary>Jacobi iterations (null: the image's larger side).</summary>
    public int? Iterations { get; }

    /// <inheritdoc/>
    public Tensor Scores(Tensor pixels, Tensor keep, PerturbationNoise noise)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var images = pixels.to(Device);
        var mask = KeepMask.Normalize(images, keep.to(Device));
        var imputed = Impute(images, mask, Noise, Iterations ?? (int)Math.Max(images.shape[2], images.shape[3]),
            () => noise.Normal(images.shape.AsSpan(1), images.device));
        return _classifier.Scores(imputed, Output).MoveToOuterDisposeScope();
    }

    /// <summary>The imputed images [N, C, H, W]: kept pixels unchanged, removed ones from their neighbours plus noise.</summary>
    public static Tensor Impute(Tensor images, Tensor keep, double noise, int iterations, Generator? generator) =>
        Impute(images, keep, noise, iterations, () => randn(images.shape, generator: generator, device: images.device));

    /// <summary><see cref="Impute(Tensor, Tensor, double, int, Generator)"/> with the standard normal values drawn by <paramref name="normal"/> (the images' shape), only when <paramref name="noise"/> is positive.</summary>
    internal static Tensor Impute(Tensor images, Tensor keep, double noise, int iterations, Func<Tensor> normal)
    {
        using var scope = NewDisposeScope();
        long c = images.shape[1];
        var removed = keep.AtMost(0).expand_as(images);
        float direct = 1f / 6, diagonal = 1f / 12;
        var kernel = tensor(new[] { diagonal, direct, diagonal, direct, 0f, direct, diagonal, direct, diagonal }, device: images.device)
            .view(1, 1, 3, 3).expand(c, 1, 3, 3).contiguous();
        // Border pixels have fewer neighbours: divide by the weight that falls inside the image.
        var support = F.conv2d(ones_like(images), kernel, padding: [1, 1], groups: c);
        var start = InputMasking.KeptMean(images, keep).expand_as(images);
        var x = where(removed, start, images);
        for (int i = 0; i < iterations; i++)
            x = where(removed, F.conv2d(x, kernel, padding: [1, 1], groups: c).div(support), images);
        if (noise > 0)
            x = where(removed, x.Plus(normal().Times(noise)), images);
        return x.MoveToOuterDisposeScope();
    }
}
