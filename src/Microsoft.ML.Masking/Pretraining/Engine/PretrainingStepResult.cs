using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Pretraining.Engine;

/// <summary>
/// The outcome of one pre-training step's forward pass. <see cref="Total"/> carries gradients to both networks;
/// the rest are detached. All tensors belong to the caller's dispose scope.
/// </summary>
internal sealed class PretrainingStepResult
{
    /// <summary>Reconstruction + λ · Adversarial + size and diversity penalties: what the optimiser minimises.</summary>
    public required Tensor Total { get; init; }

    /// <summary>The MAE loss: mean squared error over the removed patches.</summary>
    public required Tensor Reconstruction { get; init; }

    /// <summary>The adversarial term (its sign follows the objective); 0 for random masking.</summary>
    public required Tensor Adversarial { get; init; }

    /// <summary>The masks used.</summary>
    public required TokenMask Mask { get; init; }

    /// <summary>Per-patch errors [N, L] (detached).</summary>
    public required Tensor PatchErrors { get; init; }

    /// <summary>Pixel predictions of every patch [N, L, p·p·C] (detached).</summary>
    public required Tensor Prediction { get; init; }

    /// <summary>α used in this step.</summary>
    public double AdversarialShare { get; init; }
}
