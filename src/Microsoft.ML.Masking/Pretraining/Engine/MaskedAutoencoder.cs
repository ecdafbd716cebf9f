using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Pretraining;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Pretraining.Engine;

/// <summary>
/// A ViT masked autoencoder after the MAE reference (facebookresearch/mae, models_mae.py): a convolutional patch
/// embedding, fixed 2-D sine–cosine positional embeddings (<see cref="SinCosPositionalEmbedding"/>), a learned CLS
/// token, an encoder that sees only the visible patches, and a lighter decoder that fills the removed positions
/// with one shared learned mask token and predicts every patch's pixels.
/// </summary>
internal sealed class MaskedAutoencoder : nn.Module
{
    private readonly Conv2d patch_embed;
    private readonly Parameter cls_token;
    private readonly Tensor pos_embed;
    private readonly ModuleList<TransformerBlock> blocks;
    private readonly LayerNorm norm;
    private readonly Linear decoder_embed;
    private readonly Parameter mask_token;
    private readonly Tensor decoder_pos_embed;
    private readonly ModuleList<TransformerBlock> decoder_blocks;
    private readonly LayerNorm decoder_norm;
    private readonly Linear decoder_pred;

    /// <summary>Creates the network with weights drawn from <paramref name="generator"/>.</summary>
    public MaskedAutoencoder(MaskedAutoencoderArchitecture architecture, Generator generator) : base(nameof(MaskedAutoencoder))
    {
        architecture.Validate();
        Architecture = architecture;
        var a = architecture;
        patch_embed = nn.Conv2d(a.Channels, a.EncoderWidth, a.PatchSize, stride: a.PatchSize);
        cls_token = new Parameter(zeros(1, 1, a.EncoderWidth));
        pos_embed = SinCosPositionalEmbedding.Create(a.PatchRows, a.PatchColumns, a.EncoderWidth).unsqueeze(0);
        blocks = nn.ModuleList(Enumerable.Range(0, a.EncoderDepth).Select(_ => new TransformerBlock(a.EncoderWidth, a.EncoderHeads, a.MlpRatio)).ToArray());
        norm = nn.LayerNorm(a.EncoderWidth, 1e-6);
        decoder_embed = nn.Linear(a.EncoderWidth, a.DecoderWidth);
        mask_token = new Parameter(zeros(1, 1, a.DecoderWidth));
        decoder_pos_embed = SinCosPositionalEmbedding.Create(a.PatchRows, a.PatchColumns, a.DecoderWidth).unsqueeze(0);
        decoder_blocks = nn.ModuleList(Enumerable.Range(0, a.DecoderDepth).Select(_ => new TransformerBlock(a.DecoderWidth, a.DecoderHeads, a.MlpRatio)).ToArray());
        decoder_norm = nn.LayerNorm(a.DecoderWidth, 1e-6);
        decoder_pred = nn.Linear(a.DecoderWidth, a.PatchValues);
        // Registers the modules and parameters, and the two positional tables as (saved, never trained) buffers.
        RegisterComponents();
        Initialise(generator);
    }

    /// <summary>The sizes.</summary>
    public MaskedAutoencoderArchitecture Architecture { get; }

    /// <summary>The fixed encoder positional embedding [1, 1 + L, D] (row 0: CLS).</summary>
    public Tensor PositionalEmbedding => pos_embed;

    /// <summary>The fixed decoder positional embedding [1, 1 + L, D_dec].</summary>
    public Tensor DecoderPositionalEmbedding => decoder_pos_embed;

    /// <summary>Patch tokens with positions added, [N, L, D]: the encoder's input before masking.</summary>
    public Tensor EmbedPatches(Tensor images)
    {
        using var scope = NewDisposeScope();
        var tokens = patch_embed.forward(images).flatten(2).transpose(1, 2);
        return tokens.Plus(pos_embed.narrow(1, 1, tokens.shape[1])).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Encodes the visible patches of <paramref name="images"/>: [N, 1 + K, D] (CLS first), after the final norm.
    /// With a null <paramref name="mask"/> every patch is visible.
    /// </summary>
    public Tensor Encode(Tensor images, TokenMask? mask)
    {
        using var scope = NewDisposeScope();
        var x = EmbedPatches(images);
        if (mask is not null)
            x = x.gather(1, mask.KeepIndices.unsqueeze(-1).expand(-1, -1, x.shape[2]));
        var cls = cls_token.Plus(pos_embed.narrow(1, 0, 1)).expand(x.shape[0], -1, -1);
        x = cat([cls, x], 1);
        foreach (var block in blocks)
            x = block.forward(x);
        return norm.forward(x).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Decodes encoder output [N, 1 + K, D] into pixel predictions of every patch, [N, L, p·p·C]: removed positions
    /// get the shared mask token, then <paramref name="mask"/>'s restore order puts every token back in place.
    /// </summary>
    public Tensor Decode(Tensor latent, TokenMask mask)
    {
        using var scope = NewDisposeScope();
        var x = decoder_embed.forward(latent);
        long n = x.shape[0], visible = x.shape[1] - 1, width = x.shape[2];
        long patches = mask.RestoreIndices.shape[1];
        var fill = mask_token.expand(n, patches - visible, width);
        var shuffled = cat([x.narrow(1, 1, visible), fill], 1);
        var restored = shuffled.gather(1, mask.RestoreIndices.unsqueeze(-1).expand(-1, -1, width));
        x = cat([x.narrow(1, 0, 1), restored], 1).Plus(decoder_pos_embed);
        foreach (var block in decoder_blocks)
            x = block.forward(x);
        var prediction = decoder_pred.forward(decoder_norm.forward(x));
        return prediction.narrow(1, 1, patches).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The reconstruction targets, [N, L, p·p·C]: the patches of <paramref name="images"/>, or with
    /// <paramref name="normalizePixels"/> each patch standardised by its own mean and (unbiased) variance, ε = 1e-6,
    /// as the reference's norm_pix_loss.
    /// </summary>
    public Tensor Targets(Tensor images, bool normalizePixels)
    {
        using var scope = NewDisposeScope();
        var target = PatchLayout.Patchify(images, Architecture.PatchSize);
        if (normalizePixels)
        {
            var mean = target.mean([-1], keepdim: true);
            var variance = target.var(-1, unbiased: true, keepdim: true);
            target = target.sub(mean).div(variance.Plus(1e-6).sqrt());
        }
        return target.MoveToOuterDisposeScope();
    }

    /// <summary>Mean squared error of each patch, [N, L], between predictions and targets (both [N, L, p·p·C]).</summary>
    public static Tensor PatchErrors(Tensor prediction, Tensor target)
    {
        using var scope = NewDisposeScope();
        var difference = prediction.sub(target);
        return difference.mul(difference).mean([-1]).MoveToOuterDisposeScope();
    }

    /// <summary>The MAE loss: the mean of <paramref name="patchErrors"/> [N, L] over removed patches only (<paramref name="removed"/> is 1 there, 0 elsewhere).</summary>
    public static Tensor RemovedPatchLoss(Tensor patchErrors, Tensor removed)
    {
        using var scope = NewDisposeScope();
        return patchErrors.mul(removed).sum().div(removed.sum()).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Image embeddings from the encoder over all patches (no masking): the CLS token, or the mean of the patch
    /// tokens. [N, D].
    /// </summary>
    public Tensor Embed(Tensor images, EmbeddingPooling pooling)
    {
        using var scope = NewDisposeScope();
        var tokens = Encode(images, mask: null);
        var embedding = pooling switch
        {
            EmbeddingPooling.ClsToken => tokens.select(1, 0),
            EmbeddingPooling.MeanOfPatchTokens => tokens.narrow(1, 1, tokens.shape[1] - 1).mean([1]),
            _ => throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "Unknown pooling."),
        };
        return embedding.MoveToOuterDisposeScope();
    }

    private void Initialise(Generator generator)
    {
        using var _ = no_grad();
        // As the reference: patch embedding and every linear layer Xavier-uniform with zero bias, LayerNorms 1 and 0,
        // the CLS and mask tokens N(0, 0.02²). Tensor.uniform_/normal_ because TorchSharp 0.107's nn.init ignores generators.
        XavierUniform(patch_embed.weight, patch_embed.weight.shape[0], patch_embed.weight[0].numel(), generator);
        patch_embed.bias!.zero_();
        cls_token.normal_(0, 0.02, generator);
        mask_token.normal_(0, 0.02, generator);
        foreach (var (_, module) in named_modules())
        {
            switch (module)
            {
                case Linear l:
                    XavierUniform(l.weight, l.out_features, l.in_features, generator);
                    l.bias?.zero_();
                    break;
                case LayerNorm ln:
                    ln.weight!.fill_(ScalarMath.One);
                    ln.bias!.zero_();
                    break;
            }
        }
    }

    private static void XavierUniform(Tensor weight, long fanOut, long fanIn, Generator generator)
    {
        double bound = Math.Sqrt(6.0 / (fanIn + fanOut));
        weight.uniform_(-bound, bound, generator);
    }
}
