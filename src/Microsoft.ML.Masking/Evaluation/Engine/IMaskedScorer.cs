using Microsoft.ML.Masking.LayerMasking;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Evaluation.Engine;

/// <summary>A classifier the evaluators score images with: plainly, or with part of each image removed by a method.</summary>
internal interface IMaskedScorer
{
    /// <summary>The masking methods, in reporting order.</summary>
    IReadOnlyList<MaskingMethod> Methods { get; }

    /// <summary>Where tensors go.</summary>
    Device Device { get; }

    /// <summary>Logits [batch, classes] of whole images [batch, channels, height, width] in pixel space.</summary>
    Tensor CleanLogits(Tensor pixels);

    /// <summary>Logits with the pixels where <paramref name="keep"/> ([batch, height, width]) is 0 removed by <paramref name="method"/>.</summary>
    Tensor MaskedLogits(MaskingMethod method, Tensor pixels, Tensor keep, Generator generator);
}
