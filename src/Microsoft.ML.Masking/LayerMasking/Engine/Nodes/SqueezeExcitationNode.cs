using Microsoft.ML.Masking.Core;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Masking.LayerMasking.Engine.Nodes;

/// <summary>
/// Squeeze-and-excitation (torchvision's <c>SqueezeExcitation</c>: global average pool, 1×1 conv, activation, 1×1 conv,
/// scale activation, times the input). Layer masking squeezes with the masked global mean, so the channel scales depend
/// on kept positions only, then scales the activation channel by channel: the mask is unchanged, and zeros stay zero.
/// </summary>
internal sealed class SqueezeExcitationNode(string path, Conv2d reduce, ActivationNode activation, Conv2d expand, ActivationNode scaleActivation)
    : GraphNode(path)
{
    private Tensor Scale(Tensor squeezed)
    {
        var s = F.conv2d(squeezed, reduce.weight!, reduce.bias);
        s = activation.Plain(s);
        s = F.conv2d(s, expand.weight!, expand.bias);
        return scaleActivation.Plain(s);
    }

    public override Tensor Plain(Tensor x) => x * Scale(x.mean([2, 3], keepdim: true));

    public override MaskedActivation Reference(MaskedActivation input, MaskAlgebra masks)
    {
        var m = input.Mask!.Tensor;
        var scale = Scale(GlobalAveragePoolNode.ReferenceMean(input));
        return new MaskedActivation(input.Values * m * scale, input.Mask, clean: true);
    }

    public override MaskedActivation Fast(MaskedActivation input, MaskAlgebra masks, bool inputShared)
    {
        var scale = Scale(GlobalAveragePoolNode.FastMean(input, masks.InPlace));
        var y = inputShared || !masks.InPlace ? input.Values.mul(scale) : input.Values.mul_(scale);
        return new MaskedActivation(y, input.Mask, input.Clean);
    }
}
