using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core.Randomness;

/// <summary>
/// The library's one way to turn a user seed and a position (stream, row, repeat, …) into an independent random
/// stream. Every draw is a pure function of the seed and the coordinates, never of the batch a row falls in, the
/// batch size, the order rows are read or the thread that reads them.
/// </summary>
/// <remarks>
/// Each coordinate is folded in with one SplitMix64 step, <c>h ← F(h·φ ⊕ F(coordinate + c))</c>, where F is
/// SplitMix64's finaliser and φ the golden-ratio constant; F mixes all 64 bits, so the low 32 bits (all that
/// torch's CPU Mersenne Twister keeps of a seed) are as well mixed as the high ones.
/// <para>Callers pass a <see cref="SeedStream"/> first, so two features drawing for the same row with the same user
/// seed get unrelated numbers. The shapes data set (<see cref="ForItem"/>) predates the streams and keeps its
/// one-coordinate form, so every generated image stays bit-identical.</para>
/// </remarks>
internal static class SeedMixer
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;
    private const ulong CoordinateOffset = 0x632BE59BD9B4E019UL;

    /// <summary>Folds one coordinate into a state.</summary>
    public static ulong Mix(ulong state, long coordinate) =>
        unchecked(SplitMix64.Finalise(state * Golden ^ SplitMix64.Finalise((ulong)coordinate + CoordinateOffset)));

    /// <summary>The state of item <paramref name="index"/> of the family <paramref name="seed"/> (the shapes data set's form).</summary>
    public static ulong ForItem(long seed, long index) => Mix(unchecked((ulong)seed), index);

    /// <summary>
    /// The state for (<paramref name="seed"/>, <paramref name="stream"/>, <paramref name="row"/>, <paramref name="a"/>,
    /// <paramref name="b"/>): for example row 17 of the data, repeat 2, fraction 5. Row is the row's position in
    /// the data view, so the value does not depend on batching.
    /// </summary>
    public static ulong ForRow(long seed, SeedStream stream, long row, long a = 0, long b = 0) =>
        Mix(Mix(Mix(Mix(unchecked((ulong)seed), (long)stream), row), a), b);

    /// <summary>A SplitMix64 generator started at <see cref="ForRow"/>'s state.</summary>
    public static SplitMix64 Random(long seed, SeedStream stream, long row, long a = 0, long b = 0) =>
        new(ForRow(seed, stream, row, a, b));

    /// <summary>
    /// A new torch generator seeded with <see cref="ForRow"/>'s state, on <paramref name="device"/> (default CPU).
    /// The caller disposes it.
    /// </summary>
    public static Generator TorchGenerator(long seed, SeedStream stream, long row, long a = 0, long b = 0, Device? device = null) =>
        new(ForRow(seed, stream, row, a, b), device ?? CPU);
}
