namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// Base of the perturbation methods: they need only scores, from an <see cref="IPerturbationScorer"/> (a TorchSharp CNN
/// with any masking method, or any ML.NET transformer), evaluated in passes of the internal batch size.
/// </summary>
public abstract class PerturbationMethod : IAttributionMethod
{
    /// <summary>Sets the shared settings.</summary>
    /// <param name="scorer">Scores images with pixels removed.</param>
    /// <param name="internalBatchSize">Perturbed images per pass (at least 1).</param>
    /// <param name="seed">Seed of every random draw (with the row id).</param>
    protected PerturbationMethod(IPerturbationScorer scorer, int internalBatchSize, int seed)
    {
        Scorer = scorer ?? throw new ArgumentNullException(nameof(scorer));
        if (internalBatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(internalBatchSize), internalBatchSize, "The internal batch size must be at least 1.");
        InternalBatchSize = internalBatchSize;
        Seed = seed;
    }

    /// <summary>Scores images with pixels removed.</summary>
    public IPerturbationScorer Scorer { get; }

    /// <summary>Perturbed images per pass.</summary>
    public int InternalBatchSize { get; }

    /// <summary>Seed of every random draw.</summary>
    public int Seed { get; }

    /// <inheritdoc/>
    public abstract string Name { get; }

    /// <inheritdoc/>
    public virtual bool NeedsSegments => false;

    /// <inheritdoc/>
    public int OutputChannels(int imageChannels) => 1;

    /// <inheritdoc/>
    public abstract AttributionOutput Attribute(AttributionBatch batch);

    /// <summary>Scores points (see <see cref="PerturbationScoring.Score"/>, also for <paramref name="sharedMasksPerRow"/>).</summary>
    private protected double[] Score(AttributionBatch batch, int pointCount, Func<int, int> rowOf, Action<int, Span<float>> writeKeep, int sharedMasksPerRow = 0) =>
        PerturbationScoring.Score(Scorer, batch, pointCount, rowOf, writeKeep, InternalBatchSize, Seed, sharedMasksPerRow);

    /// <summary>Every row's target score on its whole image.</summary>
    private protected double[] Clean(AttributionBatch batch) => PerturbationScoring.Clean(Scorer, batch, InternalBatchSize, Seed);
}
