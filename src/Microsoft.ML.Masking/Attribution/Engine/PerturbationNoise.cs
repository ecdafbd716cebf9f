using Microsoft.ML.Masking.Core.Randomness;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// The random source of a pass of perturbations: standard normal values drawn point by point, each point from its own
/// generator seeded by (seed, the row's id, the point's ordinal among its row's points), so a noise fill or ROAD's
/// imputation noise depends on the row and the perturbation only — never on the internal batch size or the rows it
/// is scored with. Nothing is drawn unless a scorer asks.
/// </summary>
public sealed class PerturbationNoise
{
    private readonly int _seed;
    private readonly long[] _rowIds;
    private readonly long[] _ordinals;

    /// <summary>Describes the points of a pass.</summary>
    /// <param name="seed">The user seed.</param>
    /// <param name="rowIds">The row id of each point.</param>
    /// <param name="ordinals">Each point's ordinal among its row's points.</param>
    public PerturbationNoise(int seed, IReadOnlyList<long> rowIds, IReadOnlyList<long> ordinals)
    {
        ArgumentNullException.ThrowIfNull(rowIds);
        ArgumentNullException.ThrowIfNull(ordinals);
        if (rowIds.Count != ordinals.Count)
            throw new ArgumentException($"{rowIds.Count} row ids but {ordinals.Count} ordinals.", nameof(ordinals));
        _seed = seed;
        _rowIds = rowIds.ToArray();
        _ordinals = ordinals.ToArray();
    }

    /// <summary>One point per row, ordinal 0 (for scoring whole images).</summary>
    public static PerturbationNoise ForRows(int seed, IReadOnlyList<long> rowIds) => new(seed, rowIds, new long[rowIds.Count]);

    /// <summary>Points in the pass.</summary>
    public int Count => _rowIds.Length;

    /// <summary>Standard normal values [Count, ..<paramref name="pointShape"/>], each point's from its own generator
    /// (<see cref="RowNoise"/> with <see cref="SeedStream.RemovalNoise"/>: seed, row id, ordinal).</summary>
    public Tensor Normal(ReadOnlySpan<long> pointShape, Device device) =>
        RowNoise.Normal(_seed, AttributionSeeds.RemovalNoise, Count, j => (_rowIds[j], _ordinals[j], 0), pointShape, device);
}
