using Microsoft.ML.Masking.Evaluation.Engine;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>The streams of the attribution methods' random draws, all through the project's one seed mixer.</summary>
internal static class AttributionSeeds
{
    public const ulong NoiseTunnel = 101;
    public const ulong GradientShap = 102;
    public const ulong Baseline = 103;
    public const ulong Rise = 104;
    public const ulong Lime = 105;
    public const ulong KernelShap = 106;
    public const ulong RemovalNoise = 107;

    /// <summary>A generator for (seed, stream, row, index): the same draws whatever batch the row is in.</summary>
    public static Generator For(int seed, ulong stream, long row, long index = 0, Device? device = null) =>
        EvaluationSeeds.For(seed, stream, row, index, 0, device);
}
