namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// An attribution method: explains each row of a batch for its target class. Implementations run inside the caller's
/// dispose scope and leave the gradient mode as they found it; every random draw comes from the row's id, so a row's
/// result does not depend on the rows it is batched with.
/// </summary>
public interface IAttributionMethod
{
    /// <summary>A short name, e.g. "IntegratedGradients".</summary>
    string Name { get; }

    /// <summary>Whether <see cref="AttributionBatch.Segments"/> must be given.</summary>
    bool NeedsSegments { get; }

    /// <summary>Channels of each attribution map: the image's channels for pixel-level gradient methods, else 1.</summary>
    int OutputChannels(int imageChannels);

    /// <summary>Explains every row of <paramref name="batch"/>.</summary>
    AttributionOutput Attribute(AttributionBatch batch);
}
