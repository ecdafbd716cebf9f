using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Masking.LayerMasking.Engine.Nodes;

/// <summary>A BatchNorm2d that does not directly follow a convolution: BN(x⊙m)⊙m with running statistics.</summary>
internal sealed class BatchNormNode(string path, BatchNorm2d norm) : GraphNode(path)
{
    public override Tensor Plain(Tensor x) =>
        F.batch_norm(x, norm.running_mean!, norm.running_var!, norm.weight, norm.bias, training: false, momentum: 0, eps: norm.eps);

    public override MaskedActivation Reference(MaskedActivation input, MaskAlgebra masks)
    {
        var m = input.Mask!.Tensor;
        return new MaskedActivation(Plain(input.Values * m) * m, input.Mask, clean: true);
    }

    public override MaskedActivation Fast(MaskedActivation input, MaskAlgebra masks, bool inputShared) =>
        new(Plain(input.Values), input.Mask, clean: false);
}
