using static TorchSharp.torch;

namespace Microsoft.ML.Masking.LayerMasking.Engine;

/// <summary>
/// A binary keep-mask [batch, 1, height, width] with an identity, so that everything derived from the same
/// mask (its max-pooled successors, the neighbour-padding coefficients) is computed once per forward pass.
/// </summary>
internal sealed class MaskHandle
{
    public MaskHandle(int id, Tensor tensor, bool? allKept = null)
    {
        Id = id;
        Tensor = tensor;
        _allKept = allKept;
    }

    /// <summary>Unique within one forward pass; equal ids mean equal masks.</summary>
    public int Id { get; }

    /// <summary>The mask values (0 or 1), float, on the network's device.</summary>
    public Tensor Tensor { get; }

    private bool? _allKept;

    /// <summary>
    /// True when every position of every image is kept. Deep in a network the mask has usually grown to cover
    /// everything; then neighbour padding has nothing to fill and masking nothing to zero.
    /// </summary>
    public bool AllKept
    {
        get
        {
            if (_allKept is null)
            {
                using var smallest = Tensor.min();
                using var asFloat = smallest.to(ScalarType.Float32);
                _allKept = asFloat.item<float>() == 1f;
            }
            return _allKept.Value;
        }
    }
}
