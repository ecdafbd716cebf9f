using System.Collections.Concurrent;
using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Masking.LayerMasking.Engine;

/// <summary>
/// The fast path's 3×3 box sum with zero "same" padding: the same sums as <see cref="NeighbourPadding.BoxSum"/>
/// (libtorch's average pool), computed with the kernel that is fastest for the layout. On this project's CPUs the
/// average pool costs 5–10× more: a depthwise convolution with a ones kernel on channels-last activations, and two
/// separable passes of shifted sums (rows, then columns) on channels-first ones and on one-channel masks.
/// </summary>
/// <remarks>The sums are the same nine terms added in another order: equal for 0/1 masks (small integers are exact in
/// float), equal up to rounding for activations. Differentiable, so the autograd path uses it too.</remarks>
internal static class BoxSums
{
    private static readonly ConcurrentDictionary<(long Channels, ScalarType Type, string Device), Tensor> OnesKernels = new();

    /// <summary>3×3 box sum per channel of <paramref name="x"/> [N, C, H, W].</summary>
    public static Tensor Box3x3(Tensor x)
    {
        long channels = x.shape[1];
        if (channels > 1 && ChannelsLast.IsChannelsLast(x))
            return F.conv2d(x, OnesKernel(channels, x.dtype, x.device), null, [1, 1], [1, 1], [1, 1], channels);
        return Separable(x);
    }

    private static Tensor Separable(Tensor x)
    {
        long h = x.shape[2], w = x.shape[3];
        using var padded = F.pad(x, [1, 1, 1, 1]);
        using var rows = padded.narrow(3, 0, w).Plus(padded.narrow(3, 1, w)).PlusInPlace(padded.narrow(3, 2, w));
        return rows.narrow(2, 0, h).Plus(rows.narrow(2, 1, h)).PlusInPlace(rows.narrow(2, 2, h));
    }

    // One [C, 1, 3, 3] kernel of ones per channel count, type and device, kept for the process (a handful of tensors
    // of a few kilobytes: one per distinct convolution width of the networks used).
    private static Tensor OnesKernel(long channels, ScalarType type, Device device) =>
        OnesKernels.GetOrAdd((channels, type, device.ToString()), _ =>
        {
            using var scope = NewDisposeScope();
            return ChannelsLast.Of(ones(new long[] { channels, 1, 3, 3 }, dtype: type, device: device)).DetachFromDisposeScope();
        });
}
