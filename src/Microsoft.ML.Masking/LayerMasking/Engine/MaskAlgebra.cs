using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Masking.LayerMasking.Engine;

/// <summary>
/// The mask-only computations of one layer-masked forward pass, memoised by mask identity: max-pooled
/// masks, residual ANDs and neighbour-padding coefficients. Inside a ResNet stage the AND at every residual
/// gives back the stage's input mask, so each block finds its masks and coefficients already computed.
/// All tensors live in the caller's dispose scope.
/// </summary>
internal sealed class MaskAlgebra
{
    /// <summary>The ε of neighbour padding's division, as in the reference implementation.</summary>
    public const double PaddingEpsilon = 1e-5;

    private readonly Dictionary<(int, string), MaskHandle> _derived = new();
    private readonly Dictionary<(int, int), Tensor[]> _paddingCoefficients = new();
    private int _nextId;

    /// <summary>Wraps the input keep-mask.</summary>
    public MaskHandle Root(Tensor keep) => new(_nextId++, keep);

    /// <summary>
    /// The mask after a window operation (convolution or max-pool) with this geometry: a position is kept when
    /// any kept input position lies in its window.
    /// </summary>
    public MaskHandle Pool(MaskHandle mask, long[] kernel, long[] stride, long[] padding, long[] dilation)
    {
        if (kernel.All(k => k == 1) && stride.All(s => s == 1) && padding.All(p => p == 0))
            return mask;
        var key = (mask.Id, $"pool{string.Join(',', kernel)}/{string.Join(',', stride)}/{string.Join(',', padding)}/{string.Join(',', dilation)}");
        if (!_derived.TryGetValue(key, out var pooled))
        {
            pooled = new MaskHandle(_nextId++, MaxPoolMask(mask.Tensor, kernel, stride, padding, dilation));
            _derived[key] = pooled;
        }
        return pooled;
    }

    /// <summary>Max-pools a mask; padding counts as removed (max-pool pads with −∞).</summary>
    public static Tensor MaxPoolMask(Tensor mask, long[] kernel, long[] stride, long[] padding, long[] dilation) =>
        // max_pool2d rejects padding larger than half the kernel, which a dilated convolution may have.
        padding.Zip(kernel, (p, k) => p > k / 2).Any(x => x)
            ? F.max_pool2d(F.pad(mask, [padding[1], padding[1], padding[0], padding[0]], value: 0), kernel, stride, [0, 0], dilation)
            : F.max_pool2d(mask, kernel, stride, padding, dilation);

    /// <summary>The AND of two masks; when it equals one of them, that one (and its memoised results) is reused.</summary>
    public MaskHandle And(MaskHandle a, MaskHandle b)
    {
        if (a.Id == b.Id) return a;
        var key = (a.Id, $"and{b.Id}");
        if (_derived.TryGetValue(key, out var known)) return known;
        var product = a.Tensor.mul(b.Tensor);
        var result = product.eq(b.Tensor).all().item<bool>() ? b
            : product.eq(a.Tensor).all().item<bool>() ? a
            : new MaskHandle(_nextId++, product);
        _derived[key] = result;
        return result;
    }

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
        var m = mask.Tensor;
        for (int t = 0; t < iterations; t++)
        {
            var count = NeighbourPadding.BoxSum(m);
            coefficients[t] = (1 - m).div_(count + PaddingEpsilon);
            m = m.add(count).clamp_(0, 1);
        }
        _paddingCoefficients[key] = coefficients;
        return coefficients;
    }
}
