using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Masking.LayerMasking.Engine;

/// <summary>
/// The mask-only computations of one layer-masked forward pass, memoised by mask identity: max-pooled
/// masks, residual ANDs and neighbour-padding coefficients. Inside a ResNet stage the AND at every residual
/// gives back the stage's input mask, so each block finds its masks and coefficients already computed.
/// </summary>
/// <remarks>The tensors it makes belong to it, not to any dispose scope, so that layers can free their own
/// intermediates early; dispose it at the end of the forward pass, or keep it (with its root mask) for further passes
/// under the same masks (<see cref="PreparedKeepMask"/>): every result is memoised, so later passes derive nothing.</remarks>
internal sealed class MaskAlgebra : IDisposable
{
    /// <summary>Starts the mask work of one forward pass.</summary>
    /// <param name="inPlace">Whether the pass may overwrite activations in place; false while autograd records
    /// (<c>torch.is_grad_enabled()</c>), because in-place writes to tensors autograd saved break the backward pass.</param>
    public MaskAlgebra(bool inPlace) => InPlace = inPlace;

    /// <summary>
    /// True when the nodes may overwrite activations in place and use folded BatchNorm weights (the inference path);
    /// false on the autograd path, which runs out of place on the module's own parameters so that gradients reach
    /// both the kept pixels and every weight.
    /// </summary>
    public bool InPlace { get; }

    /// <summary>The ε of neighbour padding's division, as in the reference implementation.</summary>
    public const double PaddingEpsilon = 1e-5;

    private readonly Dictionary<(int, string), MaskHandle> _derived = new();
    private readonly Dictionary<(int, int), Tensor[]> _paddingCoefficients = new();
    private readonly Dictionary<(int, int), FrontierFill> _fills = new();
    private readonly List<Tensor> _owned = new();
    private int _nextId;

    /// <summary>How many distinct (mask, iterations) padding plans this pass computed (coefficient sets of the tensor
    /// recurrence, or CPU frontier fills); the rest were reused.</summary>
    public int PaddingPlansComputed => _paddingCoefficients.Count + _fills.Count;

    /// <summary>Wraps the input keep-mask (which stays owned by the caller).</summary>
    public MaskHandle Root(Tensor keep) => new(_nextId++, keep);

    /// <summary>Takes ownership of a mask made by a layer (the reference path makes one per layer).</summary>
    public MaskHandle Adopt(Tensor mask) => new(_nextId++, Own(mask));

    /// <summary>
    /// The mask after a window operation (convolution or max-pool) with this geometry: a position is kept when
    /// any kept input position lies in its window.
    /// </summary>
    public MaskHandle Pool(MaskHandle mask, long[] kernel, long[] stride, long[] padding, long[] dilation)
    {
        if (kernel.All(k => k == 1) && stride.All(s => s == 1) && padding.All(p => p == 0))
            return mask;
        if (mask.AllKept && WindowsAlwaysReachTheInput(kernel, padding, dilation))
            return AllKeptMask(mask, kernel, stride, padding, dilation);
        var key = (mask.Id, $"pool{string.Join(',', kernel)}/{string.Join(',', stride)}/{string.Join(',', padding)}/{string.Join(',', dilation)}");
        if (!_derived.TryGetValue(key, out var pooled))
        {
            pooled = Adopt(MaxPoolMask(mask.Tensor, kernel, stride, padding, dilation));
            _derived[key] = pooled;
        }
        return pooled;
    }

    /// <summary>
    /// True when every window of this geometry holds at least one real (not padding) position, so an all-kept mask
    /// pools to all-kept: the window of output o starts at o·s − p and its middle tap j = ⌊(k−1)/2⌋ sits at
    /// o·s − p + j·d, which lies inside the input whenever p ≤ d·min(j, k−1−j) (see docs/architecture.md).
    /// </summary>
    internal static bool WindowsAlwaysReachTheInput(long[] kernel, long[] padding, long[] dilation)
    {
        for (int i = 0; i < kernel.Length; i++)
        {
            long j = (kernel[i] - 1) / 2;
            if (padding[i] > dilation[i] * Math.Min(j, kernel[i] - 1 - j)) return false;
        }
        return true;
    }

    private MaskHandle AllKeptMask(MaskHandle mask, long[] kernel, long[] stride, long[] padding, long[] dilation)
    {
        var shape = mask.Tensor.shape;
        long Out(int d) => (shape[2 + d] + 2 * padding[d] - dilation[d] * (kernel[d] - 1) - 1) / stride[d] + 1;
        var key = (mask.Id, $"ones{Out(0)}x{Out(1)}");
        if (!_derived.TryGetValue(key, out var pooled))
        {
            var ones = TorchSharp.torch.ones(new long[] { shape[0], 1, Out(0), Out(1) }, dtype: mask.Tensor.dtype, device: mask.Tensor.device);
            pooled = new MaskHandle(_nextId++, Own(ones), allKept: true);
            _derived[key] = pooled;
        }
        return pooled;
    }

    /// <summary>Max-pools a mask; padding counts as removed (max-pool pads with −∞).</summary>
    public static Tensor MaxPoolMask(Tensor mask, long[] kernel, long[] stride, long[] padding, long[] dilation)
    {
        // For a 0/1 mask the max of a window is "its sum is positive", and libtorch's average pool is several
        // times faster than its max pool on one channel; zero padding never makes a sum positive.
        if (dilation.All(d => d == 1) && padding.Zip(kernel, (p, k) => p <= k / 2).All(x => x))
        {
            using var sums = F.avg_pool2d(mask, kernel, stride, padding, ceil_mode: false, count_include_pad: true, divisor_override: 1);
            return sums.GreaterThan(0).to(mask.dtype);
        }
        // max_pool2d rejects padding above half the kernel, which a dilated convolution may have; zeros are
        // equivalent for a 0/1 mask because every window still holds at least one real position or is all padding.
        if (padding.Zip(kernel, (p, k) => p > k / 2).Any(x => x))
        {
            using var padded = F.pad(mask, [padding[1], padding[1], padding[0], padding[0]], value: 0);
            return F.max_pool2d(padded, kernel, stride, [0, 0], dilation);
        }
        return F.max_pool2d(mask, kernel, stride, padding, dilation);
    }

    /// <summary>The AND of two masks; when it equals one of them, that one (and its memoised results) is reused.</summary>
    public MaskHandle And(MaskHandle a, MaskHandle b)
    {
        if (a.Id == b.Id || b.AllKept) return a;
        if (a.AllKept) return b;
        var key = (a.Id, $"and{b.Id}");
        if (_derived.TryGetValue(key, out var known)) return known;
        var product = a.Tensor.mul(b.Tensor);
        MaskHandle result;
        if (product.eq(b.Tensor).all().item<bool>()) { product.Dispose(); result = b; }
        else if (product.eq(a.Tensor).all().item<bool>()) { product.Dispose(); result = a; }
        else result = Adopt(product);
        _derived[key] = result;
        return result;
    }

    /// <summary>
    /// Any other mask derived from <paramref name="mask"/> by a layer (<paramref name="key"/> names the layer's rule and
    /// geometry), made once by <paramref name="make"/>; memoised like <see cref="Pool"/>, so a kept algebra does not grow
    /// with every pass.
    /// </summary>
    public MaskHandle Derive(MaskHandle mask, string key, Func<Tensor, Tensor> make)
    {
        var memo = (mask.Id, key);
        if (!_derived.TryGetValue(memo, out var derived))
        {
            derived = Adopt(make(mask.Tensor));
            _derived[memo] = derived;
        }
        return derived;
    }

    /// <summary>Bytes held by the tensors and CPU fills this algebra derived (for a caller that keeps it across passes).</summary>
    public long OwnedBytes => _owned.Sum(t => t.NumberOfElements * t.ElementSize) + _fills.Values.Sum(f => f.Bytes);

    /// <summary>
    /// Coefficients A_t of the fast neighbour-padding recurrence x ← x + A_t ⊙ boxsum(x) for t &lt; iterations,
    /// with A_t = (1 − m_t)/(boxsum(m_t) + ε) and m_{t+1} = clamp(m_t + boxsum(m_t), 0, 1), the 3×3 dilation of m_t.
    /// The recurrence is linear in x with mask-only coefficients, which is why they can be shared.
    /// </summary>
    public Tensor[] PaddingCoefficients(MaskHandle mask, int iterations)
    {
        var key = (mask.Id, iterations);
        if (_paddingCoefficients.TryGetValue(key, out var known)) return known;
        var coefficients = new Tensor[iterations];
        using (var scope = NewDisposeScope())
        {
            var m = mask.Tensor;
            for (int t = 0; t < iterations; t++)
            {
                var count = BoxSums.Box3x3(m);
                coefficients[t] = Own(NeighbourPadding.Removed(m).div_(count.Plus(PaddingEpsilon)));
                m = m.Plus(count).ClampToUnitInPlace();
            }
        }
        _paddingCoefficients[key] = coefficients;
        return coefficients;
    }

    /// <summary>
    /// The CPU fill equal to <paramref name="iterations"/> iterations of the recurrence around <paramref name="mask"/>
    /// (<see cref="FrontierFill"/>), planned once per (mask, iterations) and pass.
    /// </summary>
    public FrontierFill Fill(MaskHandle mask, int iterations)
    {
        var key = (mask.Id, iterations);
        if (!_fills.TryGetValue(key, out var fill))
        {
            fill = FrontierFill.Plan(mask.Tensor, iterations);
            _fills[key] = fill;
        }
        return fill;
    }

    private Tensor Own(Tensor t)
    {
        _owned.Add(t.DetachFromDisposeScope());
        return t;
    }

    /// <summary>Frees every tensor this forward pass derived from masks.</summary>
    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
        _owned.Clear();
    }
}
