using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.LayerMasking.Engine;

/// <summary>Checks and reshapes keep-masks (1 = kept, 0 = removed).</summary>
internal static class KeepMask
{
    /// <summary>
    /// Returns <paramref name="keep"/> as [batch, 1, height, width] in the images' floating type and on their device,
    /// after checking it matches <paramref name="images"/> [batch, channels, height, width] and holds only 0 and 1.
    /// </summary>
    /// <remarks>Call it inside a dispose scope: the result (and any temporary) belongs to the current scope. The value
    /// check reads one boolean back from the device; the result never carries gradients (a 0/1 mask has none).</remarks>
    /// <exception cref="ArgumentException">Wrong rank or shape, or values other than 0 and 1.</exception>
    public static Tensor Normalize(Tensor images, Tensor keep)
    {
        var mask = Reshape(images, keep);
        if (mask.NotEqual(0).logical_and_(mask.NotEqual(1)).any().item<bool>())
            throw new ArgumentException("Keep-mask values must be exactly 0 (removed) or 1 (kept).", nameof(keep));
        return mask;
    }

    /// <summary>
    /// <see cref="Normalize"/> without the value check, for callers that have already checked the values once for
    /// the batch: only shapes are compared, so nothing waits for the device.
    /// </summary>
    internal static Tensor Reshape(Tensor images, Tensor keep)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(keep);
        if (images.dim() != 4)
            throw new ArgumentException($"Images must be [batch, channels, height, width]; got shape [{string.Join(", ", images.shape)}].", nameof(images));
        long b = images.shape[0], h = images.shape[2], w = images.shape[3];
        var shaped = keep.dim() switch
        {
            3 => keep.unsqueeze(1),
            4 when keep.shape[1] == 1 => keep,
            _ => null,
        };
        if (shaped is null || shaped.shape[0] != b || shaped.shape[2] != h || shaped.shape[3] != w)
            throw new ArgumentException(
                $"Keep-mask must be [{b}, {h}, {w}] or [{b}, 1, {h}, {w}] to match the images; got [{string.Join(", ", keep.shape)}].", nameof(keep));
        // Masks follow the images' precision, so a double-precision network (gradient checks) computes in double throughout.
        var dtype = images.is_floating_point() ? images.dtype : ScalarType.Float32;
        return shaped.detach().to(dtype, images.device);
    }
}
