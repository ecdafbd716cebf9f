using Microsoft.ML.Masking.Evaluation.Engine;
using Microsoft.ML.Masking.LayerMasking;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Evaluation;

/// <summary>
/// A stand-in classifier that records every keep-mask it is given. It predicts class 0 for whole images and, under
/// masking, the number of removed pixels modulo the class count, so predictions depend on the mask only.
/// </summary>
internal sealed class RecordingScorer(IReadOnlyList<MaskingMethod> methods, int classes = 3) : IMaskedScorer
{
    public List<(MaskingMethod Method, float[] Keep)> Calls { get; } = [];

    /// <summary>The noise each call was given (null when none), in call order.</summary>
    public List<float[]?> Noise { get; } = [];

    public IReadOnlyList<MaskingMethod> Methods { get; } = methods;

    public Device Device => CPU;

    public Tensor CleanLogits(Tensor pixels) => nn.functional.one_hot(zeros(pixels.shape[0], ScalarType.Int64), classes).to(ScalarType.Float32);

    public Tensor MaskedLogits(MaskingMethod method, Tensor pixels, Tensor keep, Tensor? noise)
    {
        Calls.Add((method, keep.contiguous().data<float>().ToArray()));
        Noise.Add(noise?.contiguous().data<float>().ToArray());
        var removed = keep.reshape(keep.shape[0], -1).neg().add(1).sum(1).to(ScalarType.Int64);
        return nn.functional.one_hot(removed.remainder(classes), classes).to(ScalarType.Float32);
    }
}
