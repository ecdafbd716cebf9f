namespace Microsoft.ML.Masking.Data;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny generator whose output is fixed by its definition, so
/// the shapes data set is the same on every machine and .NET version (System.Random promises neither).
/// Seeding from (seed, index) gives every image its own independent stream: images can be produced in any
/// order, in parallel, or one at a time, and are always the same.
/// </summary>
internal struct SplitMix64(ulong state)
{
    private ulong _state = state;

    /// <summary>A generator for item <paramref name="index"/> of the stream family <paramref name="seed"/>.</summary>
    public static SplitMix64 ForItem(long seed, long index) =>
        new(Finalise((ulong)seed * 0x9E3779B97F4A7C15UL ^ Finalise((ulong)index + 0x632BE59BD9B4E019UL)));

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Finalise(_state);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public double Uniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>Uniform in [0, <paramref name="count"/>).</summary>
    public int NextInt(int count) => (int)(NextDouble() * count);

    private static ulong Finalise(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
