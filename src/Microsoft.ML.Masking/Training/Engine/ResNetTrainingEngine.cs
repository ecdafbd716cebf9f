using System.Globalization;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Training;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Training.Engine;

/// <summary>
/// ResNet classification on the library's <see cref="TrainingLoop"/>: builds the network (initial weights from the
/// seed's own generator), its optimiser and schedule and the <see cref="ResNetClassificationTask"/>, fingerprints
/// the options, and lets the loop run epochs, checkpoints, early stopping, progress and cancellation.
/// </summary>
internal sealed class ResNetTrainingEngine
{
    private readonly ResNetTrainer.Options _options;
    private readonly Device _device;
    private readonly IHostEnvironment _host;
    private readonly IChannel _channel;
    private readonly Action<ResNetEpochReport> _epochFinished;

    /// <summary>Creates the engine.</summary>
    /// <param name="options">The trainer's options.</param>
    /// <param name="device">Where the network trains.</param>
    /// <param name="host">Cancellation comes from here.</param>
    /// <param name="channel">Set-up, epochs and early stopping as Info; in-epoch progress as Trace.</param>
    /// <param name="epochFinished">Receives each epoch's report.</param>
    public ResNetTrainingEngine(ResNetTrainer.Options options, Device device, IHostEnvironment host, IChannel channel,
        Action<ResNetEpochReport> epochFinished)
    {
        _options = options;
        _device = device;
        _host = host;
        _channel = channel;
        _epochFinished = epochFinished;
    }

    /// <summary>Live progress, for progress channels.</summary>
    public TrainingProgress Progress { get; } = new();

    public ResNetTrainingResult Train(TrainingExamples training, StreamedExamples? validation, ChannelNormalization normalization)
    {
        var o = _options;
        if (training.Count < 2)
            throw new InvalidOperationException($"The training data has {training.Count} image(s); training needs at least 2 (BatchNorm compares images within a batch).");
        if (normalization.Channels != training.Shape.Channels)
            throw new ArgumentException(
                $"ResNetTrainer.Options.Normalization has {normalization.Channels} channel(s) but the images in column '{o.ImageColumnName}' have {training.Shape.Channels}.");

        var architecture = o.Architecture with { InputChannels = training.Shape.Channels, NumClasses = training.ClassCount };
        var model = new ResNet(architecture, o.Seed);
        model.to(_device);
        var optimizerSettings = new OptimizerSettings(o.Optimizer, o.LearningRate, o.Momentum, o.Nesterov, o.WeightDecay);
        using var optimizer = optimizerSettings.Create(model.parameters());
        var schedule = new LearningRateSchedule(o.LearningRate, o.Schedule, o.WarmupEpochs, o.StepMilestones, o.StepGamma);
        var components = new TrainingComponents().AddModule("resnet", model).AddOptimizer("optimizer", optimizer, schedule);
        var augmenter = new BatchAugmenter(o.RandomCropPadding, o.HorizontalFlip, o.RandomErasingProbability);
        var task = new ResNetClassificationTask(model, optimizer, normalization, augmenter, o.LabelSmoothing, validation,
            o.ImageColumnName, o.LabelColumnName, o.InferenceBatchSize, _device, CheckAlive);

        var loop = new TrainingLoop(new TrainingLoopOptions
        {
            Name = "ResNet training", Epochs = o.Epochs, BatchSize = o.BatchSize, Seed = o.Seed, Device = _device,
            CheckpointPath = o.CheckpointPath, CheckpointEveryEpochs = o.CheckpointEveryEpochs,
            BestMetric = "accuracy", HigherIsBetter = true, EarlyStoppingPatience = o.EarlyStoppingPatience,
            NumberOfThreads = o.NumberOfThreads, CancellationToken = o.CancellationToken,
            Fingerprint = Fingerprint(o, architecture, optimizerSettings, schedule, validation, normalization),
        }, _host, _channel, Progress);
        loop.EpochFinished += report => _epochFinished(ToResNetReport(report));

        int batchSize = Math.Min(o.BatchSize, training.Count);
        _channel.Info($"Training {DescribeArchitecture(architecture)} on {training.Count} images {training.Shape} ({training.ClassCount} classes), " +
             $"{loop.BatchesPerEpoch(training.Count)} batches of {batchSize} per epoch, {o.Epochs} epochs, {o.Optimizer} lr {o.LearningRate.ToString(CultureInfo.InvariantCulture)} ({o.Schedule}), " +
             $"{o.NumberOfThreads ?? get_num_threads()} thread(s), device {_device}.");

        var run = loop.Run(task, components, training);
        return new ResNetTrainingResult(model, run.History.Select(ToResNetReport).ToList(), run.BestEpoch, run.StoppedEarly);
    }

    private void CheckAlive()
    {
        HostCancellation.ThrowIfCancelled(_host);
        _options.CancellationToken.ThrowIfCancellationRequested();
    }

    internal static ResNetEpochReport ToResNetReport(EpochReport r) => new()
    {
        Epoch = r.Epoch, TrainingLoss = r.TrainingMetric("loss"), TrainingAccuracy = r.TrainingMetric("accuracy"),
        ValidationLoss = r.ValidationMetric("loss"), ValidationAccuracy = r.ValidationMetric("accuracy"),
        LearningRate = r.LearningRate, ImagesPerSecond = r.ExamplesPerSecond, Duration = r.Duration,
    };

    /// <summary>The task's settings that shape the result; the loop adds batches, early stopping and the training data.</summary>
    internal static Dictionary<string, string> Fingerprint(ResNetTrainer.Options o, ResNetArchitecture architecture, OptimizerSettings optimizer,
        LearningRateSchedule schedule, StreamedExamples? validation, ChannelNormalization normalization)
    {
        string Number(double x) => x.ToString("R", CultureInfo.InvariantCulture);
        string Floats(IEnumerable<float> xs) => string.Join(" ", xs.Select(x => x.ToString("R", CultureInfo.InvariantCulture)));
        return new Dictionary<string, string>
        {
            ["architecture"] = architecture.ToJson(),
            ["normalization"] = $"{Floats(normalization.Mean)} / {Floats(normalization.StandardDeviation)}",
            ["optimizer"] = optimizer.Describe(),
            ["schedule"] = schedule.Describe(),
            ["loss"] = $"label smoothing {Number(o.LabelSmoothing)}",
            ["augmentation"] = $"crop {o.RandomCropPadding} flip {o.HorizontalFlip} erasing {Number(o.RandomErasingProbability)}",
            ["validation set"] = validation is null ? "none" : $"{validation.Count} {validation.ContentHash}",
        };
    }

    internal static string DescribeArchitecture(ResNetArchitecture a) =>
        $"ResNet ({a.Block} blocks [{string.Join(",", a.Layers)}], width {a.BaseWidth}, {(a.SmallImageStem ? "small-image" : "ImageNet")} stem)";
}
