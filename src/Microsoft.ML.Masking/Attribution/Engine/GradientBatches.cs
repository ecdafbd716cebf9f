using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// Runs many gradient evaluations (rows × steps or samples) in passes of at most an internal batch size, so memory
/// stays bounded however many steps a method takes (Captum's IG and GradientSHAP build all steps in one batch
/// unless told otherwise).
/// </summary>
internal static class GradientBatches
{
    /// <summary>
    /// Evaluates <paramref name="count"/> points: <paramref name="makeInputs"/>(first, length) builds the pixel inputs of points
    /// [first, first + length) and <paramref name="targetOf"/> gives each point's class; <paramref name="accumulate"/> receives
    /// each pass's gradients [length, C, H, W] and target scores [length]. <paramref name="makeKeep"/>(first, length), when
    /// given, builds the pass's keep-masks [length, H, W] for a layer-masked classifier (null: the plain network).
    /// </summary>
    public static void Run(TorchClassifier classifier, ScoreKind kind, int count, int internalBatchSize,
        Func<int, int, Tensor> makeInputs, Func<int, long> targetOf, Action<int, int, Tensor, Tensor> accumulate,
        Func<int, int, Tensor?>? makeKeep = null)
    {
        if (internalBatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(internalBatchSize), internalBatchSize, "The internal batch size must be at least 1.");
        for (int first = 0; first < count; first += internalBatchSize)
        {
            int length = Math.Min(internalBatchSize, count - first);
            using var scope = NewDisposeScope();
            var inputs = makeInputs(first, length);
            var targets = tensor(Enumerable.Range(first, length).Select(targetOf).ToArray(), device: classifier.Device);
            var (gradients, scores) = classifier.Gradients(inputs, targets, kind, makeKeep?.Invoke(first, length));
            accumulate(first, length, gradients, scores);
        }
    }
}
