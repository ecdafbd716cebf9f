using Microsoft.ML.Masking.Core;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Pretraining.Engine;

/// <summary>
/// A pre-norm ViT block: <c>x + Attention(LayerNorm(x))</c>, then <c>x + MLP(LayerNorm(x))</c>, with multi-head
/// self-attention and a GELU MLP, as in the MAE reference (timm's Block, LayerNorm ε = 1e-6).
/// </summary>
internal sealed class TransformerBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm1;
    private readonly Linear qkv;
    private readonly Linear proj;
    private readonly LayerNorm norm2;
    private readonly Linear fc1;
    private readonly GELU act;
    private readonly Linear fc2;
    private readonly int _heads;
    private readonly double _scale;

    public TransformerBlock(int width, int heads, int mlpRatio) : base(nameof(TransformerBlock))
    {
        _heads = heads;
        _scale = 1.0 / Math.Sqrt(width / heads);
        norm1 = nn.LayerNorm(width, 1e-6);
        qkv = nn.Linear(width, 3L * width);
        proj = nn.Linear(width, width);
        norm2 = nn.LayerNorm(width, 1e-6);
        fc1 = nn.Linear(width, (long)width * mlpRatio);
        act = nn.GELU();
        fc2 = nn.Linear((long)width * mlpRatio, width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = x.Plus(Attention(norm1.forward(x)));
        return y.Plus(fc2.forward(act.forward(fc1.forward(norm2.forward(y))))).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Multi-head self-attention, softmax(q·kᵀ / √d_head)·v per head, by libtorch's fused
    /// <c>scaled_dot_product_attention</c> (scale 1/√d_head by default). The fused kernel never materialises the
    /// [N, heads, T, T] weights in the forward pass nor their intermediates in the backward pass; the unfused
    /// matmul–scale–softmax–matmul chain allocated three such tensors per block and direction, and their page faults
    /// (not the arithmetic) dominated the decoder's step time (docs/benchmarks.md, MAE section).
    /// <see cref="ReferenceAttention"/> is the unfused formula, kept for the test that pins the two together.
    /// </summary>
    private Tensor Attention(Tensor x)
    {
        var (q, k, v) = Heads(x);
        return Merge(nn.functional.scaled_dot_product_attention(q, k, v), x);
    }

    /// <summary>The same attention written out (softmax(q·kᵀ · scale)·v), for tests.</summary>
    internal Tensor ReferenceAttention(Tensor x)
    {
        using var scope = NewDisposeScope();
        var (q, k, v) = Heads(x);
        var weights = q.matmul(k.transpose(-2, -1)).Times(_scale).softmax(-1);
        return Merge(weights.matmul(v), x).MoveToOuterDisposeScope();
    }

    /// <summary>This block's attention output for <paramref name="x"/> [N, T, D] (before the residual), for tests.</summary>
    internal Tensor AttentionOutput(Tensor x)
    {
        using var scope = NewDisposeScope();
        return Attention(x).MoveToOuterDisposeScope();
    }

    private (Tensor Q, Tensor K, Tensor V) Heads(Tensor x)
    {
        long n = x.shape[0], t = x.shape[1], d = x.shape[2];
        var parts = qkv.forward(x).reshape(n, t, 3, _heads, d / _heads).permute(2, 0, 3, 1, 4);
        return (parts[0], parts[1], parts[2]);
    }

    private Tensor Merge(Tensor perHead, Tensor x) => proj.forward(perHead.transpose(1, 2).reshape(x.shape[0], x.shape[1], x.shape[2]));
}
