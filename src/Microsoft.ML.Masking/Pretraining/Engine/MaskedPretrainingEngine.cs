using System.Globalization;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Training;
using Microsoft.ML.Masking.Training;
using Microsoft.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Pretraining.Engine;

/// <summary>
/// Masked-autoencoder pre-training on the library's <see cref="TrainingLoop"/>: builds the networks (initial
/// weights from the seed), one AdamW optimiser per network with warm-up and cosine decay, and the
/// <see cref="MaskedPretrainingTask"/>; the loop does epochs, shuffling, checkpoints, resume, progress and
/// cancellation.
/// </summary>
internal sealed class MaskedPretrainingEngine
{
    private readonly MaskedAutoencoderPretrainer.Options _options;
    private readonly Device _device;
    private readonly IHostEnvironment _host;
    private readonly IChannel _channel;

    public MaskedPretrainingEngine(MaskedAutoencoderPretrainer.Options options, Device device, IHostEnvironment host, IChannel channel)
    {
        _options = options;
        _device = device;
        _host = host;
        _channel = channel;
    }

    /// <summary>Live progress, for progress channels.</summary>
    public TrainingProgress Progress { get; } = new();

    /// <summary>Called after each epoch.</summary>
    public event Action<PretrainingEpochReport>? EpochFinished;

    /// <summary>Trains on <paramref name="training"/>; returns the trained networks (evaluation mode) and one report per epoch.</summary>
    public (MaskedPretrainingNetwork Network, IReadOnlyList<PretrainingEpochReport> History) Train(
        TrainingExamples training, ChannelNormalization normalization, MaskedAutoencoderArchitecture architecture)
    {
        var o = _options;
        var settings = o.ToMaskingSettings();
        bool adversarial = settings.Masking == MaskingStrategy.Adversarial;
        var network = new MaskedPretrainingNetwork(architecture, adversarial, settings.MaskingNetworkChannels, o.Seed);
        network.to(_device);

        var autoencoderOptimizer = new OptimizerSettings(OptimizerKind.AdamW, o.LearningRate, WeightDecay: o.WeightDecay);
        var maskingOptimizer = new OptimizerSettings(OptimizerKind.AdamW, o.MaskingNetworkLearningRate, WeightDecay: 0);
        var schedule = new LearningRateSchedule(o.LearningRate, LearningRateScheduleKind.Cosine, o.WarmupEpochs);
        var maskingSchedule = new LearningRateSchedule(o.MaskingNetworkLearningRate, LearningRateScheduleKind.Cosine, o.WarmupEpochs);
        using var optimizer = autoencoderOptimizer.Create(network.AutoencoderParameters);
        using var amnOptimizer = adversarial ? maskingOptimizer.Create(network.MaskingNetworkParameters) : null;
        var components = new TrainingComponents().AddModule("pretraining", network).AddOptimizer("autoencoder", optimizer, schedule);
        if (amnOptimizer is not null)
            components.AddOptimizer("masking-network", amnOptimizer, maskingSchedule);

        var loop = new TrainingLoop(new TrainingLoopOptions
        {
            Name = "Masked-autoencoder pre-training", Epochs = o.Epochs, BatchSize = o.BatchSize, Seed = o.Seed, Device = _device,
            CheckpointPath = o.CheckpointPath, CheckpointEveryEpochs = o.CheckpointEveryEpochs, BestMetric = "loss", HigherIsBetter = false,
            NumberOfThreads = o.NumberOfThreads, CancellationToken = o.CancellationToken,
            Fingerprint = new Dictionary<string, string>
            {
                ["architecture"] = architecture.ToJson(),
                ["masking"] = settings.Describe(),
                ["normalization"] = $"{Floats(normalization.Mean)} / {Floats(normalization.StandardDeviation)}",
                ["optimizer"] = $"{autoencoderOptimizer.Describe()}; {schedule.Describe()}",
                ["masking optimizer"] = adversarial ? $"{maskingOptimizer.Describe()}; {maskingSchedule.Describe()}" : "none",
            },
        }, _host, _channel, Progress);
        long totalSteps = (long)loop.BatchesPerEpoch(training.Count) * o.Epochs;
        var task = new MaskedPretrainingTask(network, new MaskedPretrainingObjective(settings), normalization,
            amnOptimizer is null ? [optimizer] : [optimizer, amnOptimizer], totalSteps);
        loop.EpochFinished += report => EpochFinished?.Invoke(ToReport(report));

        _channel.Info(string.Create(CultureInfo.InvariantCulture,
            $"Pre-training a masked autoencoder ({architecture.PatchCount} patches of {architecture.PatchSize} px, encoder {architecture.EncoderDepth}×{architecture.EncoderWidth}, " +
            $"decoder {architecture.DecoderDepth}×{architecture.DecoderWidth}) with {settings.Masking} masking (ratio {settings.MaskRatio}, α up to {settings.MaxAdversarialShare}) " +
            $"on {training.Count} images {training.Shape}, {loop.BatchesPerEpoch(training.Count)} batches per epoch, {o.Epochs} epochs, device {_device}."));
        var run = loop.Run(task, components, training);
        return (network, run.History.Select(ToReport).ToList());
    }

    private static PretrainingEpochReport ToReport(EpochReport r) => new()
    {
        Epoch = r.Epoch,
        ReconstructionLoss = r.TrainingMetric("loss"),
        AdversarialTerm = r.TrainingMetric("adversarial"),
        // Both are means over all examples; their ratio is the mean over the batches that had picks.
        HardnessGap = r.TrainingMetric("hardness gap") / r.TrainingMetric("picked batches"),
        AdversarialShare = r.TrainingMetric("alpha"),
        LearningRate = r.LearningRate,
        ImagesPerSecond = r.ExamplesPerSecond,
        Duration = r.Duration,
    };

    private static string Floats(IEnumerable<float> xs) => string.Join(" ", xs.Select(x => x.ToString("R", CultureInfo.InvariantCulture)));
}
