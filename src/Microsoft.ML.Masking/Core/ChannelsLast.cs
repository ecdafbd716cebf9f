using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core;

/// <summary>
/// Channels-last layout ([N, C, H, W] shape, [N, H, W, C] in memory). On CPU, libtorch's 3×3 box sum (average pool)
/// is about ten times faster in this layout and convolutions are faster too, and both keep the layout, so converting
/// once at the input carries through a network: layer masking's fast path, and the adversarial masking network, whose
/// thin 3×3 convolutions' input gradient costs 2–4× less than in the default layout.
/// </summary>
internal static class ChannelsLast
{
    /// <summary>The same values in channels-last memory order (a copy unless already so).</summary>
    public static Tensor Of(Tensor x) =>
        x.dim() == 4 && !IsChannelsLast(x) ? x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : x;

    /// <summary>True when <paramref name="x"/> is 4-D and laid out [N, H, W, C] contiguously.</summary>
    public static bool IsChannelsLast(Tensor x) => x.dim() == 4 && x.permute(0, 2, 3, 1).is_contiguous();
}
