using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.LayerMasking.Engine.Nodes;

/// <summary>
/// AdaptiveAvgPool2d to 1×1 as a masked mean: sum(x⊙m)/(sum(m)+ε). With nothing kept the result is zero,
/// the feature vector of an empty feature map. The activation stops being spatial here.
/// </summary>
internal sealed class GlobalAveragePoolNode(string path) : GraphNode(path)
{
    /// <summary>Keeps an empty mask from dividing by zero; far below one kept position's weight.</summary>
    public const double Epsilon = 1e-8;

    public override Tensor Plain(Tensor x) => x.mean([2, 3], keepdim: true);

    public override MaskedActivation Reference(MaskedActivation input, MaskAlgebra masks) =>
        new(ReferenceMean(input), null, clean: true);

    public override MaskedActivation Fast(MaskedActivation input, MaskAlgebra masks, bool inputShared) =>
        new(FastMean(input, masks.InPlace), null, clean: true);

    /// <summary>The masked mean [B, C, 1, 1] as the reference computes it (also squeeze-and-excitation's squeeze).</summary>
    public static Tensor ReferenceMean(MaskedActivation input)
    {
        var m = input.Mask!.Tensor;
        return (input.Values * m).sum([2, 3], keepdim: true) / m.sum([2, 3], keepdim: true).Plus(Epsilon);
    }

    /// <summary>The same masked mean in one pass over the values, which may be dirty (the mask multiplies them).</summary>
    public static Tensor FastMean(MaskedActivation input, bool inPlace)
    {
        var x = input.Values;
        var m = input.Mask!.Tensor;
        long b = x.shape[0], c = x.shape[1];
        // One batched matrix product reads x once and needs no masked copy: [B,1,HW]·[B,HW,C] in
        // channels-last memory, [B,C,HW]·[B,HW,1] otherwise.
        var sum = ChannelsLast.IsChannelsLast(x)
            ? m.reshape(b, 1, -1).bmm(x.permute(0, 2, 3, 1).reshape(b, -1, c)).reshape(b, c, 1)
            : x.reshape(b, c, -1).bmm(m.reshape(b, -1, 1));
        var count = m.sum([2, 3]).reshape(b, 1, 1).PlusInPlace(Epsilon);
        var mean = inPlace ? sum.div_(count) : sum.div(count);
        return mean.reshape(b, c, 1, 1);
    }
}
