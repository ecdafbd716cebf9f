using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Pretraining.Engine;

/// <summary>
/// Masked-autoencoder pre-training as a <see cref="TrainingLoop"/> task: normalise, run
/// <see cref="MaskedPretrainingObjective"/> with α of this step, one backward pass of the total loss, one step of each
/// optimiser (the autoencoder's and, for adversarial masking, the masking network's). Records "loss" (the
/// reconstruction loss), "adversarial", "alpha", and on batches with picks "hardness gap" and "picked batches".
/// </summary>
internal sealed class MaskedPretrainingTask(MaskedPretrainingNetwork network, MaskedPretrainingObjective objective,
    ChannelNormalization normalization, IReadOnlyList<TorchSharp.Modules.OptimizerHelper> optimizers, long totalSteps) : ITrainingTask
{
    public void Step(TrainingBatch batch)
    {
        var images = normalization.Apply(batch.Images);
        double share = objective.Settings.AdversarialShareAt(batch.Step, totalSteps);
        foreach (var optimizer in optimizers)
            optimizer.zero_grad();
        var result = objective.Compute(network, images, share, batch.Generator);
        float reconstruction = result.Reconstruction.item<float>();
        if (!float.IsFinite(reconstruction))
            throw new InvalidOperationException(
                $"The reconstruction loss became {reconstruction} at step {batch.Step}; lower the learning rate (MaskedAutoencoderPretrainer.Options.LearningRate).");
        result.Total.backward();
        foreach (var optimizer in optimizers)
            optimizer.step();

        batch.Record("loss", reconstruction * batch.Count);
        batch.Record("adversarial", result.Adversarial.item<float>() * batch.Count);
        batch.Record("alpha", result.AdversarialShare * batch.Count);
        if (HardnessGap(result) is { } gap)
        {
            batch.Record("hardness gap", gap * batch.Count);
            batch.Record("picked batches", batch.Count);
        }
    }

    /// <summary>No validation: pre-training has no labels, and its loss on held-out images is not what the embeddings are for.</summary>
    public Dictionary<string, double>? Validate() => null;

    /// <summary>Mean error of the picked patches minus that of the random removals in this batch, or null without both.</summary>
    internal static double? HardnessGap(PretrainingStepResult result)
    {
        using var scope = NewDisposeScope();
        var picked = result.Mask.Adversarial;
        var random = result.Mask.RandomlyRemoved();
        double pickedCount = picked.sum().item<float>(), randomCount = random.sum().item<float>();
        if (pickedCount == 0 || randomCount == 0)
            return null;
        return result.PatchErrors.mul(picked).sum().item<float>() / pickedCount - result.PatchErrors.mul(random).sum().item<float>() / randomCount;
    }
}
