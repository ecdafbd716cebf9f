using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Evaluation.Engine;

/// <summary>
/// Random generators derived from the evaluation seed and a position (row, repeat, fraction), so every draw is
/// fixed by the seed and the row, whatever the batch size, and every masking method sees the same draws.
/// </summary>
internal static class EvaluationSeeds
{
    /// <summary>Stream of the removal order of one image in one repeat.</summary>
    public const ulong RemovalOrder = 1;

    /// <summary>Stream of the noise baseline's values for one batch and fraction.</summary>
    public const ulong Noise = 2;

    /// <summary>A new generator for (<paramref name="seed"/>, <paramref name="stream"/>, <paramref name="a"/>, <paramref name="b"/>, <paramref name="c"/>).</summary>
    public static Generator For(long seed, ulong stream, long a, long b = 0, long c = 0, Device? device = null)
    {
        // Odd multipliers from SplitMix64/xxHash spread the coordinates over the 64-bit seed space.
        ulong mixed = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL
            ^ stream * 0xD6E8FEB86659FD93UL
            ^ (ulong)a * 0xC2B2AE3D27D4EB4FUL
            ^ (ulong)b * 0x165667B19E3779F9UL
            ^ (ulong)c * 0x27D4EB2F165667C5UL);
        return new Generator(mixed, device ?? CPU);
    }
}
