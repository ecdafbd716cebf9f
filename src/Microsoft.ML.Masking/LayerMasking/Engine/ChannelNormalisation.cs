using static TorchSharp.torch;

namespace Microsoft.ML.Masking.LayerMasking.Engine;

/// <summary>
/// The per-channel normalisation the network was trained with: normalised = (pixel − Mean) / Std, pixels in
/// the scale the data uses (e.g. 0–1 or 0–255).
/// </summary>
/// <param name="Mean">Per-channel mean (pixel space).</param>
/// <param name="Std">Per-channel standard deviation (pixel space).</param>
public sealed record ChannelNormalisation(float[] Mean, float[] Std)
{
    /// <summary>No normalisation: mean 0, std 1 for every channel.</summary>
    public static ChannelNormalisation Identity(int channels) => new(new float[channels], Enumerable.Repeat(1f, channels).ToArray());

    /// <summary>ImageNet's statistics for 0–1 pixels (torchvision's pretrained models).</summary>
    public static ChannelNormalisation ImageNet { get; } = new([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>Checks the lengths match <paramref name="channels"/> and every std is positive.</summary>
    public void Validate(int channels)
    {
        if (Mean.Length != channels || Std.Length != channels)
            throw new ArgumentException($"Normalisation has {Mean.Length} means and {Std.Length} standard deviations; the images have {channels} channels.");
        if (Std.Any(s => !(s > 0) || float.IsInfinity(s)))
            throw new ArgumentException("Normalisation standard deviations must be positive and finite.");
    }

    /// <summary>Black (pixel value 0) in normalised space, per channel.</summary>
    public Tensor Black(long channels, Device device)
    {
        Validate((int)channels);
        return tensor(Mean.Zip(Std, (m, s) => -m / s).ToArray(), device: device);
    }
}
