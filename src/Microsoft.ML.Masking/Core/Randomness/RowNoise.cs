using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core.Randomness;

/// <summary>
/// Standard normal noise drawn point by point (a point is a row, or one of a row's perturbations), each point from its
/// own generator <see cref="SeedMixer.TorchGenerator"/>(seed, stream, row, a, b), so a point's noise depends on its row
/// and coordinates only — never on the batch it is drawn in, its position there or the device. The one noise source of
/// the noise baseline: the LayerMask transform, the evaluators and the attribution methods' perturbations.
/// </summary>
internal static class RowNoise
{
    /// <summary>
    /// Noise [<paramref name="count"/>, ..<paramref name="pointShape"/>] on <paramref name="device"/>; point i from the
    /// coordinates <paramref name="point"/>(i). Drawn on the CPU (torch's CPU generator), so the values are the same on
    /// every device.
    /// </summary>
    public static Tensor Normal(long seed, SeedStream stream, int count, Func<int, (long Row, long A, long B)> point,
        ReadOnlySpan<long> pointShape, Device device)
    {
        ArgumentNullException.ThrowIfNull(point);
        using var scope = NewDisposeScope();
        var shape = pointShape.ToArray();
        var draws = new Tensor[count];
        for (int i = 0; i < count; i++)
        {
            var (row, a, b) = point(i);
            using var generator = SeedMixer.TorchGenerator(seed, stream, row, a, b);
            draws[i] = randn(shape, generator: generator);
        }
        return stack(draws).to(device).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Noise shaped as <paramref name="shape"/> ([rows, ..]) for the consecutive rows <paramref name="firstRow"/> … of a
    /// batch, all with the coordinates (<paramref name="a"/>, <paramref name="b"/>).
    /// </summary>
    public static Tensor Normal(long seed, SeedStream stream, long firstRow, ReadOnlySpan<long> shape, Device device, long a = 0, long b = 0) =>
        Normal(seed, stream, checked((int)shape[0]), i => (firstRow + i, a, b), shape[1..], device);
}
