using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>What an attribution method returns for a batch.</summary>
public sealed class AttributionOutput
{
    /// <summary>Wraps a result.</summary>
    /// <param name="attributions">[rows, channels, height, width] (pixel-level gradient methods) or [rows, 1, height, width].</param>
    /// <param name="rowValues">One diagnostic number per row (the completeness delta of Integrated Gradients, the surrogate's
    /// weighted R² of LIME), or null.</param>
    public AttributionOutput(Tensor attributions, float[]? rowValues = null)
    {
        ArgumentNullException.ThrowIfNull(attributions);
        if (attributions.dim() != 4)
            throw new ArgumentException($"Attributions must be [rows, channels, height, width]; got [{string.Join(", ", attributions.shape)}].", nameof(attributions));
        if (rowValues is not null && rowValues.Length != attributions.shape[0])
            throw new ArgumentException($"Expected one row value per row ({attributions.shape[0]}); got {rowValues.Length}.", nameof(rowValues));
        Attributions = attributions;
        RowValues = rowValues;
    }

    /// <summary>[rows, channels or 1, height, width].</summary>
    public Tensor Attributions { get; }

    /// <summary>One diagnostic value per row, or null.</summary>
    public float[]? RowValues { get; }
}
