using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core;

/// <summary>
/// Tensor arithmetic with numbers, safe against a race in TorchSharp 0.107: a number passed where a
/// <see cref="Scalar"/> is expected becomes a native Scalar that only its finalizer frees, and TorchSharp does not keep
/// it alive across the native call. When another thread triggers a garbage collection during that call, the finalizer
/// can free the Scalar while libtorch reads it ("Expected false to be true ... toFloat", or a wrong number).
/// <c>Tensor.add(Tensor)</c> and <c>add_(Scalar)</c> create such a temporary themselves (their alpha of 1), as do the
/// number operators (<c>x + 1.0</c>). Upstream: dotnet/TorchSharp pull requests 1434 and 1496.
/// <para>
/// Every Scalar the library passes is therefore either one of the constants here, which static fields keep alive for
/// the whole process, or created by a method here and disposed after the call. No other file converts numbers to
/// Scalars; the test <c>ScalarLifetimeAuditTests</c> enforces that on the compiled assembly.
/// </para>
/// </summary>
internal static class ScalarMath
{
    /// <summary>The integer 0.</summary>
    public static readonly Scalar Zero = 0;

    /// <summary>The integer 1, also the alpha of every tensor sum.</summary>
    public static readonly Scalar One = 1;

    /// <summary>a + b, out of place.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary>a += b, in place.</summary>
    public static Tensor PlusInPlace(this Tensor a, Tensor b) => a.add_(b, One);

    /// <summary>a + value, out of place.</summary>
    public static Tensor Plus(this Tensor a, double value) => With(value, s => a.add(s, One));

    /// <summary>a += value, in place.</summary>
    public static Tensor PlusInPlace(this Tensor a, double value) => With(value, s => a.add_(s, One));

    /// <summary>a · value, out of place.</summary>
    public static Tensor Times(this Tensor a, double value) => With(value, s => a.mul(s));

    /// <summary>a / value, out of place.</summary>
    public static Tensor DividedBy(this Tensor a, double value) => With(value, s => a.div(s));

    /// <summary>1 − a, written as −a + 1 because TorchSharp's scalar-minus-tensor operator is far slower.</summary>
    public static Tensor OneMinus(this Tensor a) => a.neg().add_(One, One);

    /// <summary>Clamps into [0, 1] in place.</summary>
    public static Tensor ClampToUnitInPlace(this Tensor a) => a.clamp_(Zero, One);

    /// <summary>Clamps into [min, max], out of place.</summary>
    public static Tensor Clamp(this Tensor a, double min, double max)
    {
        using var low = min.ToScalar();
        using var high = max.ToScalar();
        return a.clamp(low, high);
    }

    /// <summary>max(a, min), out of place.</summary>
    public static Tensor ClampMin(this Tensor a, double min) => With(min, s => a.clamp_min(s));

    /// <summary>a &gt; value.</summary>
    public static Tensor GreaterThan(this Tensor a, double value) => With(value, s => a.gt(s));

    /// <summary>a &lt; value.</summary>
    public static Tensor LessThan(this Tensor a, double value) => With(value, s => a.lt(s));

    /// <summary>a ≤ value.</summary>
    public static Tensor AtMost(this Tensor a, double value) => With(value, s => a.le(s));

    /// <summary>a ≠ value.</summary>
    public static Tensor NotEqual(this Tensor a, double value) => With(value, s => a.ne(s));

    /// <summary>Every element of <c>a</c> set to <paramref name="value"/>, in place.</summary>
    public static Tensor FillInPlace(this Tensor a, double value) => With(value, s => a.fill_(s));

    /// <summary><c>a *= value</c>, in place.</summary>
    public static Tensor TimesInPlace(this Tensor a, double value) => With(value, s => a.mul_(s));

    /// <summary>a with <paramref name="value"/> where <paramref name="mask"/> is true, out of place.</summary>
    public static Tensor Fill(this Tensor a, Tensor mask, double value) => With(value, s => a.masked_fill(mask, s));

    /// <summary>Runs <paramref name="operation"/> with <paramref name="value"/> as a Scalar that is disposed after it.</summary>
    private static Tensor With(double value, Func<Scalar, Tensor> operation)
    {
        using var scalar = value.ToScalar();
        return operation(scalar);
    }

    /// <summary>0, 1, …, count − 1 as a 1-D tensor.</summary>
    public static Tensor Range(long count, ScalarType dtype, Device? device = null)
    {
        using var stop = count.ToScalar();
        return arange(Zero, stop, One, dtype, device);
    }
}
