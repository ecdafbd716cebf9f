using System.Globalization;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.TestDoubles;

/// <summary>
/// Comparisons of numbers that two different float computations produced: one row against a batch, batch 5 against
/// batch 12, BatchNorm folded against unfolded, a module's forward against the engine's plain path. Such paths
/// round differently (the kernels pick other blockings and vector widths per CPU and batch size), so they agree
/// only up to a tolerance relative to the values' scale. Bit-identity is asserted directly, and only where both
/// sides are the same computation (same batch, device and thread count).
/// </summary>
internal static class FloatAssert
{
    /// <summary>
    /// Asserts |expected[i] − actual[i]| ≤ <paramref name="relative"/> × scale for every i, where scale is the
    /// largest magnitude on either side (so a vector of logits is judged by its largest logit, not element by
    /// element). <paramref name="why"/> says which two computations are compared; it starts the failure message.
    /// </summary>
    public static void AreClose(float[] expected, float[] actual, double relative, string why)
    {
        Assert.HasCount(expected.Length, actual, why);
        double scale = 0;
        for (int i = 0; i < expected.Length; i++)
            scale = Math.Max(scale, Math.Max(Math.Abs((double)expected[i]), Math.Abs((double)actual[i])));
        double tolerance = relative * scale;
        for (int i = 0; i < expected.Length; i++)
        {
            double difference = Math.Abs((double)expected[i] - actual[i]);
            if (!(difference <= tolerance))
                Assert.Fail(string.Create(CultureInfo.InvariantCulture,
                    $"{why}: element {i} differs by {difference:G3}, more than {relative:G3} of the values' scale {scale:G4} (expected {expected[i]:R}, actual {actual[i]:R})."));
        }
    }

    /// <summary><see cref="AreClose(float[], float[], double, string)"/> on two tensors of the same shape.</summary>
    public static void AreClose(Tensor expected, Tensor actual, double relative, string why)
    {
        CollectionAssert.AreEqual(expected.shape, actual.shape, $"{why}: shapes");
        AreClose(Values(expected), Values(actual), relative, why);
    }

    /// <summary>Two scalars: |expected − actual| ≤ <paramref name="relative"/> × max(|expected|, |actual|).</summary>
    public static void AreClose(double expected, double actual, double relative, string why)
    {
        double scale = Math.Max(Math.Abs(expected), Math.Abs(actual));
        if (!(Math.Abs(expected - actual) <= relative * scale))
            Assert.Fail(string.Create(CultureInfo.InvariantCulture,
                $"{why}: expected {expected:R}, actual {actual:R}, more than {relative:G3} apart relative to {scale:G4}."));
    }

    private static float[] Values(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.detach().to(ScalarType.Float32, CPU).contiguous().data<float>().ToArray();
    }
}
