using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Training;
using Microsoft.ML.Masking.Models;
using OptimizerHelper = TorchSharp.Modules.OptimizerHelper;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Training.Engine;

/// <summary>
/// Image classification as a <see cref="TrainingLoop"/> task: augment (crop, flip on raw pixels; erasing after
/// normalisation), cross-entropy with label smoothing, one optimiser step; validation loss and accuracy on streamed
/// data. Records "loss" and "accuracy".
/// </summary>
internal sealed class ResNetClassificationTask(ResNet model, OptimizerHelper optimizer, ChannelNormalization normalization,
    BatchAugmenter augmenter, double labelSmoothing, StreamedExamples? validation, string imageColumn, string labelColumn,
    int inferenceBatchSize, Device device, Action checkAlive) : ITrainingTask
{
    public void Step(TrainingBatch batch)
    {
        var labels = batch.Labels ?? throw new InvalidOperationException("Classification needs labels.");
        var images = augmenter.CropAndFlip(batch.Images, batch.Generator);
        images = augmenter.Erase(normalization.Apply(images), batch.Generator);
        optimizer.zero_grad();
        var logits = model.forward(images);
        var loss = nn.functional.cross_entropy(logits, labels, label_smoothing: labelSmoothing);
        loss.backward();
        optimizer.step();
        batch.Record("loss", loss.item<float>() * batch.Count);
        batch.Record("accuracy", logits.argmax(1).eq(labels).sum().item<long>());
    }

    /// <summary>Mean cross-entropy and accuracy on the validation data (no gradients), or null without it.</summary>
    public Dictionary<string, double>? Validate() =>
        ValidateClassifier(model.forward, normalization, validation, imageColumn, labelColumn, inferenceBatchSize, device, checkAlive);

    /// <summary>
    /// Mean cross-entropy and accuracy of <paramref name="logits"/> (a function of normalised images) on the
    /// validation data, without gradients; null without validation data. Shared by the classification tasks.
    /// </summary>
    internal static Dictionary<string, double>? ValidateClassifier(Func<Tensor, Tensor> logits, ChannelNormalization normalization,
        StreamedExamples? validation, string imageColumn, string labelColumn, int inferenceBatchSize, Device device, Action checkAlive)
    {
        if (validation is null)
            return null;
        using var noGrad = no_grad();
        double lossSum = 0;
        long correct = 0;
        foreach (var batch in validation.Batches(inferenceBatchSize))
        {
            checkAlive();
            using var scope = NewDisposeScope();
            var scores = logits(normalization.Apply(batch.Tensor(imageColumn, device)));
            var labels = batch.Tensor(labelColumn, device);
            lossSum += nn.functional.cross_entropy(scores, labels, reduction: nn.Reduction.Sum).item<float>();
            correct += scores.argmax(1).eq(labels).sum().item<long>();
        }
        return new Dictionary<string, double>
        {
            ["loss"] = lossSum / validation.Count,
            ["accuracy"] = (double)correct / validation.Count,
        };
    }
}
