using Microsoft.ML.Masking.Core.Randomness;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>The streams of the attribution methods' random draws, all through the project's one seed mixer (<see cref="SeedMixer"/>).</summary>
internal static class AttributionSeeds
{
    public const SeedStream NoiseTunnel = SeedStream.NoiseTunnel;
    public const SeedStream GradientShap = SeedStream.GradientShap;
    public const SeedStream Baseline = SeedStream.Baseline;
    public const SeedStream Rise = SeedStream.Rise;
    public const SeedStream Lime = SeedStream.Lime;
    public const SeedStream KernelShap = SeedStream.KernelShap;
    public const SeedStream RemovalNoise = SeedStream.RemovalNoise;
    public const SeedStream Evaluation = SeedStream.AttributionEvaluation;
    public const SeedStream Randomization = SeedStream.AttributionRandomization;
    public const SeedStream FaithfulnessCorrelation = SeedStream.FaithfulnessCorrelation;
    public const SeedStream RemovalLinearity = SeedStream.RemovalLinearity;
    public const SeedStream Infidelity = SeedStream.Infidelity;
    public const SeedStream MaxSensitivity = SeedStream.MaxSensitivity;

    /// <summary>A generator for (seed, stream, row, index): the same draws whatever batch the row is in.</summary>
    public static Generator For(int seed, SeedStream stream, long row, long index = 0, Device? device = null) =>
        SeedMixer.TorchGenerator(seed, stream, row, index, 0, device);
}
