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
    /// <param name="method">The masking method.</param>
    /// <param name="pixels">Images [batch, channels, height, width] in pixel space.</param>
    /// <param name="keep">1 = kept, 0 = removed.</param>
    /// <param name="noise">The noise baseline's standard normal values in normalised space, shaped as <paramref name="pixels"/>
    /// (drawn per row by <see cref="Core.Randomness.RowNoise"/>); given when <paramref name="method"/> is
    /// <see cref="MaskingMethod.Noise"/>, null otherwise.</param>
    Tensor MaskedLogits(MaskingMethod method, Tensor pixels, Tensor keep, Tensor? noise);
}
