using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// Base of the gradient methods: a differentiable <see cref="ImageClassifier"/>, the output explained and the internal
/// batch size (images per forward/backward pass, whatever the number of rows × steps or samples).
/// </summary>
public abstract class GradientMethod : IAttributionMethod
{
    /// <summary>Sets the shared settings.</summary>
    /// <param name="classifier">The network explained.</param>
    /// <param name="output">The output explained. Default in every option class: <see cref="ScoreKind.Logit"/>.</param>
    /// <param name="internalBatchSize">Images per forward/backward pass (at least 1).</param>
    /// <param name="device">Where to compute; null for the classifier's device, else the CPU.</param>
    /// <param name="layerMasking">Build the layer-masked view of the network, so batches may carry keep-masks
    /// (<see cref="AttributionBatch.Keep"/>): gradients are then taken without the removed pixels.</param>
    /// <param name="layer">Attribute this layer's activation instead of the pixels (layer attribution), or null.</param>
    private protected GradientMethod(ImageClassifier classifier, ScoreKind output, int internalBatchSize, Device? device, bool layerMasking,
        IAttributedLayer? layer = null)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        if (internalBatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(internalBatchSize), internalBatchSize, "The internal batch size must be at least 1.");
        Torch = new TorchClassifier(classifier, device, layerMasking, layer);
        Output = output;
        InternalBatchSize = internalBatchSize;
    }

    /// <summary>The network explained.</summary>
    public ImageClassifier Classifier => Torch.Description;

    /// <summary><paramref name="classifier"/>, or an <see cref="ArgumentNullException"/> (for constructor chains that read it first).</summary>
    private protected static ImageClassifier Checked(ImageClassifier classifier) => classifier ?? throw new ArgumentNullException(nameof(classifier));

    /// <summary>The classifier as a function of pixel-space images, on the resolved device.</summary>
    internal TorchClassifier Torch { get; }

    /// <summary>The output explained.</summary>
    public ScoreKind Output { get; }

    /// <summary>Images per forward/backward pass.</summary>
    public int InternalBatchSize { get; }

    /// <inheritdoc/>
    public abstract string Name { get; }

    /// <inheritdoc/>
    public bool NeedsSegments => false;

    /// <inheritdoc/>
    /// <exception cref="NotSupportedException">A layer attribution: its maps have the layer's channels and size, read them from the output.</exception>
    public virtual int OutputChannels(int imageChannels) => Torch.Layer is null ? imageChannels
        : throw new NotSupportedException($"A layer attribution has the channels of layer '{Torch.Layer.LayerName}'; read them from the output's shape.");

    /// <inheritdoc/>
    public abstract AttributionOutput Attribute(AttributionBatch batch);

    /// <summary>
    /// Gradients of each row's target score at its own pixels, [N, C, H, W], in passes of <see cref="InternalBatchSize"/>;
    /// through the layer-masked network when <paramref name="keep"/> ([N, H, W]) is given.
    /// </summary>
    protected Tensor PlainGradients(Tensor pixels, IReadOnlyList<long> targets, Tensor? keep = null)
    {
        var result = zeros_like(pixels);
        GradientBatches.Run(Torch, Output, (int)pixels.shape[0], InternalBatchSize,
            (first, length) => pixels.narrow(0, first, length).to(Torch.Device),
            i => targets[i],
            (first, length, gradients, _) => result.narrow(0, first, length).copy_(gradients),
            keep is null ? null : (first, length) => keep.narrow(0, first, length).to(Torch.Device));
        return result;
    }

    /// <summary>The keep-masks of points whose rows are <paramref name="rows"/> (an int64 tensor), or null without masks.</summary>
    protected Tensor? KeepOf(Tensor? keep, Tensor rows) => keep?.to(Torch.Device).index_select(0, rows.to(Torch.Device));

    /// <summary>The target scores of whole images, [N] (no gradients); through the layer-masked network when <paramref name="keep"/> is given.</summary>
    protected Tensor TargetScores(Tensor pixels, IReadOnlyList<long> targets, Tensor? keep = null)
    {
        using var _ = no_grad();
        var scores = zeros(pixels.shape[0], device: Torch.Device);
        for (long first = 0; first < pixels.shape[0]; first += InternalBatchSize)
        {
            long length = Math.Min(InternalBatchSize, pixels.shape[0] - first);
            using var scope = NewDisposeScope();
            var chunkTargets = tensor(targets.Skip((int)first).Take((int)length).ToArray(), device: Torch.Device);
            scores.narrow(0, first, length).copy_(Torch.TargetScores(pixels.narrow(0, first, length).to(Torch.Device), chunkTargets, Output,
                keep?.narrow(0, first, length).to(Torch.Device)));
        }
        return scores;
    }

    /// <summary>
    /// The baseline points for <paramref name="pixels"/> [N, C, H, W]: the baseline images (<see cref="Baselines"/>), or for
    /// a layer attribution their activations at the layer, computed in passes of the internal batch size;
    /// <see cref="AttributionBaseline.Zero"/> is the zero tensor of the points' shape (<paramref name="points"/>, the
    /// images' own points), i.e. the zero activation at a layer.
    /// </summary>
    protected Tensor BaselinePoints(Tensor pixels, Tensor points, AttributionBaseline baseline, IReadOnlyList<long> rowIds, int seed, long draw = 0) =>
        baseline == AttributionBaseline.Zero ? zeros_like(points) : ToPoints(Baselines(pixels, baseline, rowIds, seed, draw));

    /// <summary>The points attributed for pixel-space images (the images, or their layer activations), in passes of the internal batch size.</summary>
    protected Tensor ToPoints(Tensor pixels)
    {
        if (Torch.Layer is null)
            return pixels;
        var chunks = new List<Tensor>();
        for (long first = 0; first < pixels.shape[0]; first += InternalBatchSize)
            chunks.Add(Torch.ToPoints(pixels.narrow(0, first, Math.Min(InternalBatchSize, pixels.shape[0] - first)).to(Torch.Device)));
        return cat(chunks, 0);
    }

    /// <summary>
    /// The baseline images [N, C, H, W] for <paramref name="pixels"/>: black (also for <see cref="AttributionBaseline.Zero"/>),
    /// the data set's mean colour, or uniform noise drawn from (seed, row, <paramref name="draw"/>).
    /// </summary>
    protected Tensor Baselines(Tensor pixels, AttributionBaseline baseline, IReadOnlyList<long> rowIds, int seed, long draw = 0)
    {
        long c = pixels.shape[1], h = pixels.shape[2], w = pixels.shape[3];
        switch (baseline)
        {
            case AttributionBaseline.Black:
            case AttributionBaseline.Zero:
                return zeros_like(pixels);
            case AttributionBaseline.Mean:
                return Torch.Normalization.MeanPixels(pixels.device).expand_as(pixels).contiguous();
            case AttributionBaseline.Uniform:
                var rows = new Tensor[rowIds.Count];
                for (int i = 0; i < rows.Length; i++)
                {
                    using var generator = AttributionSeeds.For(seed, AttributionSeeds.Baseline, rowIds[i], draw);
                    rows[i] = rand(new long[] { 1, c, h, w }, generator: generator);
                }
                return cat(rows, 0).to(pixels.device);
            default:
                throw new ArgumentOutOfRangeException(nameof(baseline), baseline, "Unknown baseline.");
        }
    }
}
