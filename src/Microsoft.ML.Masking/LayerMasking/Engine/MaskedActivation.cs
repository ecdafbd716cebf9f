using static TorchSharp.torch;

namespace Microsoft.ML.Masking.LayerMasking.Engine;

/// <summary>
/// An activation travelling through a layer-masked network: the values, the keep-mask that says which
/// positions are real (1) and which are removed (0), and whether the values are already zero where the
/// mask is 0.
/// </summary>
/// <remarks>
/// Pointwise layers (folded BatchNorm, ReLU, residual sums) commute with multiplying by a binary mask, so
/// the fast path lets garbage sit at removed positions ("dirty") and multiplies by the mask only right
/// before a layer that reads neighbours (k×k convolution, pooling). The values at kept positions are
/// the same either way; only the number of passes over memory changes.
/// </remarks>
internal sealed class MaskedActivation
{
    public MaskedActivation(Tensor values, MaskHandle? mask, bool clean)
    {
        Values = values;
        Mask = mask;
        Clean = clean;
    }

    /// <summary>[batch, channels, height, width] while spatial; [batch, features] after global pooling.</summary>
    public Tensor Values { get; }

    /// <summary>The keep-mask, or null once the activation is no longer spatial.</summary>
    public MaskHandle? Mask { get; }

    /// <summary>True when <see cref="Values"/> is already zero wherever the mask is zero.</summary>
    public bool Clean { get; }

    /// <summary>Values zeroed at removed positions (multiplies when they are not yet; in place if <paramref name="inPlace"/>).</summary>
    /// <remarks>In place is safe on the inference path: every tensor reaching here was made by the network, never the
    /// caller's input, and the only other reader (a residual identity) is itself masked by a subset of this mask later.
    /// Under autograd the multiply must be out of place (the tensor may be saved for the backward pass).</remarks>
    public Tensor CleanValues(bool inPlace) =>
        Clean || Mask is null || Mask.AllKept ? Values : inPlace ? Values.mul_(Mask.Tensor) : Values.mul(Mask.Tensor);
}
