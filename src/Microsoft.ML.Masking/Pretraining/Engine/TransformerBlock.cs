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

    private Tensor Attention(Tensor x)
    {
        long n = x.shape[0], t = x.shape[1], d = x.shape[2];
        var parts = qkv.forward(x).reshape(n, t, 3, _heads, d / _heads).permute(2, 0, 3, 1, 4);
        var (q, k, v) = (parts[0], parts[1], parts[2]);
        var weights = q.matmul(k.transpose(-2, -1)).Times(_scale).softmax(-1);
        return proj.forward(weights.matmul(v).transpose(1, 2).reshape(n, t, d));
    }
}
