using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Training;
using Microsoft.ML.Masking.Training.Engine;
using OptimizerHelper = TorchSharp.Modules.OptimizerHelper;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Ensemble.Engine;

/// <summary>
/// Training of ensemble member i &gt; 0 (and its gate) as a <see cref="TrainingLoop"/> task, the earlier members frozen.
/// Each batch: augment (crop, flip) as the ResNet trainer does; draw one earlier member j from the batch's generator;
/// pair every image with another image of a different class; distil the images towards their partners' features on
/// member j's top channels (<see cref="FeatureDistillationAttack"/>); step on CE(clean) + λ·CE(distilled), both with
/// the original labels and with member i's gate computed from the earlier members on the same (clean or distilled)
/// input. Random erasing, when on, applies to both after normalisation. Records "loss", "accuracy" (clean) and
/// "distilled accuracy". With λ = 0 no attack runs.
/// </summary>
internal sealed class DistilledMemberTask(EnsembleNetwork network, int member, OptimizerHelper optimizer, ChannelNormalization normalization,
    BatchAugmenter augmenter, double labelSmoothing, FeatureDistillationAttack attack, double distillationWeight,
    IReadOnlyList<Tensor> topChannels, StreamedExamples? validation, string imageColumn, string labelColumn, int inferenceBatchSize,
    Device device, Action checkAlive) : ITrainingTask
{
    public void Step(TrainingBatch batch)
    {
        var labels = batch.Labels ?? throw new InvalidOperationException("Classification needs labels.");
        var images = augmenter.CropAndFlip(batch.Images, batch.Generator);
        Tensor? distilled = null;
        if (distillationWeight > 0)
        {
            int target = (int)randint(0, member, [1], ScalarType.Int64, generator: batch.Generator).item<long>();
            var partners = FeatureDistillationAttack.DifferentClassPartners(labels.cpu().data<long>().ToArray(), batch.Generator);
            var partnerImages = images.index_select(0, tensor(partners, device: images.device));
            distilled = attack.Run(network.Members[target], normalization, images, partnerImages, topChannels[target].to(images.device));
        }

        optimizer.zero_grad();
        var clean = Logits(augmenter.Erase(normalization.Apply(images), batch.Generator));
        var loss = nn.functional.cross_entropy(clean, labels, label_smoothing: labelSmoothing);
        if (distilled is not null)
        {
            var logits = Logits(augmenter.Erase(normalization.Apply(distilled), batch.Generator));
            loss = loss.Plus(nn.functional.cross_entropy(logits, labels, label_smoothing: labelSmoothing).Times(distillationWeight));
            batch.Record("loss", loss.item<float>() * batch.Count);
            batch.Record("accuracy", clean.argmax(1).eq(labels).sum().item<long>());
            batch.Record("distilled accuracy", logits.argmax(1).eq(labels).sum().item<long>());
        }
        else
        {
            batch.Record("loss", loss.item<float>() * batch.Count);
            batch.Record("accuracy", clean.argmax(1).eq(labels).sum().item<long>());
        }
        loss.backward();
        optimizer.step();
    }

    /// <summary>Member i's (gated) mean cross-entropy and accuracy on the validation data, or null without it.</summary>
    public Dictionary<string, double>? Validate() => ResNetClassificationTask.ValidateClassifier(
        Logits, normalization, validation, imageColumn, labelColumn, inferenceBatchSize, device, checkAlive);

    // The gate input comes from the frozen earlier members and carries no gradient.
    private Tensor Logits(Tensor normalized)
    {
        Tensor gateInput;
        using (no_grad())
            gateInput = network.GateInput(normalized, member);
        return network.Member(normalized, member, gateInput).Logits;
    }
}
