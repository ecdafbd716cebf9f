using static TorchSharp.torch;

namespace Microsoft.ML.Masking.LayerMasking.Engine;

/// <summary>
/// A binary keep-mask [batch, 1, height, width] with an identity, so that everything derived from the same
/// mask (its max-pooled successors, the neighbour-padding coefficients) is computed once per forward pass.
/// </summary>
internal sealed class MaskHandle
{
    public MaskHandle(int id, Tensor tensor)
    {
        Id = id;
        Tensor = tensor;
    }

    /// <summary>Unique within one forward pass; equal ids mean equal masks.</summary>
    public int Id { get; }

    /// <summary>The mask values (0 or 1), float, on the network's device.</summary>
    public Tensor Tensor { get; }
}
