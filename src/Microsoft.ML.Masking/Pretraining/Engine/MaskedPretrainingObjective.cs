using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Pretraining;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Pretraining.Engine;

/// <summary>
/// The loss of one pre-training step (the function the training loop calls per batch):
/// <code>
/// Total = Reconstruction + λ · Adversarial + β_size · Size + β_div · Diversity
/// </code>
/// <list type="bullet">
/// <item><b>Reconstruction</b>: MAE's per-patch MSE averaged over the removed patches only; the removed patches
/// are chosen by <see cref="MaskSelection"/> (no gradient flows through the choice).</item>
/// <item><b>Adversarial</b>: with p the masking network's selection distribution softmax(logit(score) / τ)
/// renormalised over each image's removed patches and e the per-patch errors,
/// J = mean over images of Σ p·e, the expected error of a patch the masking network would pick. Under
/// <see cref="AdversarialObjective.MaximizeReconstructionError"/> the term is −J with e held constant, so its
/// gradient reaches only the masking network and moves its scores towards the patches that are hard to
/// reconstruct (a gradient-reversed, differentiable path through the scores); under
/// <see cref="AdversarialObjective.SeedLiteral"/> it is +J with e live, the seed document's formula minimised by both
/// networks.</item>
/// <item><b>Size</b> (after ADIOS): mean over images of 1 / sin(π · mean pixel score) − 1, which keeps each score map
/// away from all-0 and all-1, where the sigmoid saturates and the ranking carries no information.</item>
/// <item><b>Diversity</b>: log L − H(p̄), the KL divergence from uniform of the selection distribution averaged
/// over the batch: it is 0 when the picks spread over all positions and grows when every image gets the same
/// pattern.</item>
/// </list>
/// The fixed share α (at most <see cref="MaskingSettings.MaxAdversarialShare"/>) and the uniform rest bound how much
/// of an image the masking network can hide, so it cannot remove the whole object unless the object fits in α·R patches.
/// </summary>
internal sealed class MaskedPretrainingObjective
{
    private readonly MaskingSettings _settings;

    public MaskedPretrainingObjective(MaskingSettings settings)
    {
        settings.Validate();
        _settings = settings;
    }

    /// <summary>The settings.</summary>
    public MaskingSettings Settings => _settings;

    /// <summary>
    /// Runs both networks on a batch of normalised images [N, C, H, W] and returns the losses. The caller owns the
    /// dispose scope and the gradient mode, calls <c>backward()</c> on <see cref="PretrainingStepResult.Total"/>
    /// and steps the optimiser.
    /// </summary>
    /// <param name="network">The networks.</param>
    /// <param name="images">Normalised images.</param>
    /// <param name="share">α for this step (see <see cref="MaskingSettings.AdversarialShareAt"/>).</param>
    /// <param name="generator">This step's random source (mask noise and Gumbel noise).</param>
    public PretrainingStepResult Compute(MaskedPretrainingNetwork network, Tensor images, double share, Generator generator)
    {
        var mae = network.Autoencoder;
        var a = mae.Architecture;
        int keep = _settings.KeepCount(a.PatchCount);
        var scores = _settings.Masking == MaskingStrategy.Adversarial ? network.PatchScores(images) : null;
        if (_settings.Masking == MaskingStrategy.Adversarial && scores is null)
            throw new InvalidOperationException("Adversarial masking needs a masking network.");

        var mask = scores is null
            ? MaskSelection.Random(images.shape[0], a.PatchCount, keep, images.device, generator)
            : MaskSelection.Adversarial(scores.detach(), share, keep, _settings, generator);

        var prediction = mae.Decode(mae.Encode(images, mask), mask);
        var errors = MaskedAutoencoder.PatchErrors(prediction, mae.Targets(images, _settings.NormalizePixelTargets));
        var reconstruction = MaskedAutoencoder.RemovedPatchLoss(errors, mask.Removed);

        Tensor total = reconstruction, adversarial = zeros(1, device: images.device).squeeze();
        if (scores is not null)
        {
            var logits = MaskSelection.SelectionLogits(scores, _settings.SelectionTemperature);
            bool literal = _settings.Objective == AdversarialObjective.SeedLiteral;
            var expected = ExpectedPickedError(logits, literal ? errors : errors.detach(), mask.Removed);
            adversarial = literal ? expected : expected.neg();
            total = total.Plus(adversarial.Times(_settings.AdversarialWeight))
                .Plus(SizePenalty(scores).Times(_settings.SizePenaltyWeight))
                .Plus(DiversityPenalty(logits).Times(_settings.DiversityPenaltyWeight));
        }
        return new PretrainingStepResult
        {
            Total = total,
            Reconstruction = reconstruction.detach(),
            Adversarial = adversarial.detach(),
            Mask = mask,
            PatchErrors = errors.detach(),
            Prediction = prediction.detach(),
            AdversarialShare = scores is null ? 0 : share,
        };
    }

    /// <summary>J: mean over images of Σ_removed p·e, p = softmax(logits) restricted to and renormalised over the removed patches.</summary>
    internal static Tensor ExpectedPickedError(Tensor logits, Tensor errors, Tensor removed)
    {
        using var scope = NewDisposeScope();
        var restricted = logits.Fill(removed.logical_not(), double.NegativeInfinity).softmax(1);
        return restricted.mul(errors).sum([1]).mean().MoveToOuterDisposeScope();
    }

    /// <summary>ADIOS's penalty 1/sin(π·m) − 1 on each image's mean pixel score m, averaged.</summary>
    private static Tensor SizePenalty(Tensor patchScores)
    {
        using var scope = NewDisposeScope();
        // Patches tile the image, so the mean of the patch scores is the mean pixel score.
        var meanScore = patchScores.mean([1]).Clamp(1e-4, 1 - 1e-4);
        return meanScore.Times(Math.PI).sin().reciprocal().Plus(-1.0).mean().MoveToOuterDisposeScope();
    }

    /// <summary>log L − H(p̄): the batch-averaged selection distribution's KL divergence from uniform.</summary>
    private static Tensor DiversityPenalty(Tensor logits)
    {
        using var scope = NewDisposeScope();
        var averaged = logits.softmax(1).mean([0]);
        var entropy = averaged.mul(averaged.Clamp(1e-12, 1).log()).sum().neg();
        return entropy.neg().Plus(Math.Log(logits.shape[1])).MoveToOuterDisposeScope();
    }
}
