using Microsoft.ML.Masking.Core;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Masking.Core.Randomness;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Training.Engine;

/// <summary>
/// The TorchSharp training loop behind <see cref="ResNetTrainer"/>. Reproducible by construction: the initial
/// weights come from the seed's own generator, and every epoch draws its shuffle and augmentation from a fresh
/// generator seeded by (seed, epoch), so epoch <c>e</c> is the same whether the run started at 0 or resumed at
/// <c>e</c> from a checkpoint.
/// </summary>
internal sealed class ResNetTrainingEngine
{
    private readonly ResNetTrainer.Options _options;
    private readonly Device _device;
    private readonly Action<string> _log;
    private readonly Action<string> _trace;
    private readonly Action<ResNetEpochReport> _epochFinished;

    /// <summary>Creates the engine.</summary>
    /// <param name="options">The trainer's options.</param>
    /// <param name="device">Where the network trains.</param>
    /// <param name="log">Receives one-off messages (set-up, resume, early stop).</param>
    /// <param name="trace">Receives in-epoch progress, about every tenth of an epoch.</param>
    /// <param name="epochFinished">Receives each epoch's report.</param>
    public ResNetTrainingEngine(ResNetTrainer.Options options, Device device, Action<string> log, Action<string> trace,
        Action<ResNetEpochReport> epochFinished)
    {
        _options = options;
        _device = device;
        _log = log;
        _trace = trace;
        _epochFinished = epochFinished;
    }

    /// <summary>Live progress, for progress channels.</summary>
    public TrainingProgress Progress { get; } = new();

    public ResNetTrainingResult Train(LabeledImages training, LabeledImages? validation, ChannelNormalization normalization)
    {
        if (training.Count < 2)
            throw new InvalidOperationException($"The training data has {training.Count} image(s); training needs at least 2 (BatchNorm compares images within a batch).");
        if (normalization.Channels != training.Shape.Channels)
            throw new ArgumentException(
                $"ResNetTrainer.Options.Normalization has {normalization.Channels} channel(s) but the images in column '{_options.ImageColumnName}' have {training.Shape.Channels}.");

        int previousThreads = get_num_threads();
        if (_options.NumberOfThreads is { } threads)
            set_num_threads(threads);
        try
        {
            return Run(training, validation, normalization);
        }
        finally
        {
            set_num_threads(previousThreads);
        }
    }

    private ResNetTrainingResult Run(LabeledImages training, LabeledImages? validation, ChannelNormalization normalization)
    {
        var o = _options;
        var architecture = o.Architecture with { InputChannels = training.Shape.Channels, NumClasses = training.ClassCount };
        var model = new ResNet(architecture, o.Seed);
        model.to(_device);
        bool earlyStopping = o.EarlyStoppingPatience > 0;
        using var best = earlyStopping ? new ResNet(architecture, o.Seed) : null;
        best?.to(_device);
        using var optimizer = CreateOptimizer(model);

        int batchSize = Math.Min(o.BatchSize, training.Count);
        int batchesPerEpoch = training.Count / batchSize;
        var schedule = new LearningRateSchedule(o.LearningRate, o.Schedule, batchesPerEpoch, o.Epochs, o.WarmupEpochs, o.StepMilestones, o.StepGamma);
        var augmenter = new BatchAugmenter(o.RandomCropPadding, o.HorizontalFlip, o.RandomErasingProbability);
        var fingerprint = Fingerprint(architecture, training, validation, normalization);

        var state = new TrainingState();
        if (o.CheckpointPath is { } checkpointPath && File.Exists(checkpointPath))
        {
            state = TrainingCheckpoint.Restore(checkpointPath, fingerprint, model, optimizer, best);
            _log($"Resumed from checkpoint '{checkpointPath}' after epoch {state.CompletedEpochs} of {o.Epochs}.");
        }

        _log($"Training {DescribeArchitecture(architecture)} on {training.Count} images {training.Shape} ({training.ClassCount} classes), " +
             $"{batchesPerEpoch} batches of {batchSize} per epoch, {o.Epochs} epochs, {o.Optimizer} lr {o.LearningRate} ({o.Schedule}), " +
             $"{get_num_threads()} thread(s), device {_device}.");

        bool stoppedEarly = earlyStopping && state.CompletedEpochs - state.BestEpoch >= o.EarlyStoppingPatience;
        while (state.CompletedEpochs < o.Epochs && !stoppedEarly)
        {
            int epoch = state.CompletedEpochs;
            var watch = Stopwatch.StartNew();
            var (loss, accuracy, learningRate) = RunEpoch(model, optimizer, training, normalization, augmenter, schedule, epoch, batchSize, batchesPerEpoch);
            double imagesPerSecond = (double)batchesPerEpoch * batchSize / watch.Elapsed.TotalSeconds;
            double? validationLoss = null, validationAccuracy = null;
            if (validation is not null)
                (validationLoss, validationAccuracy) = Evaluate(model, validation, normalization);

            var report = new ResNetEpochReport
            {
                Epoch = epoch + 1, TrainingLoss = loss, TrainingAccuracy = accuracy,
                ValidationLoss = validationLoss, ValidationAccuracy = validationAccuracy,
                LearningRate = learningRate, ImagesPerSecond = imagesPerSecond, Duration = watch.Elapsed,
            };
            state.History.Add(report);
            state.CompletedEpochs = epoch + 1;
            if (validationAccuracy is { } va && (state.BestValidationAccuracy is null || va > state.BestValidationAccuracy))
            {
                state.BestValidationAccuracy = va;
                state.BestEpoch = epoch + 1;
                if (best is not null)
                    CopyWeights(model, best);
            }
            _epochFinished(report);

            stoppedEarly = earlyStopping && state.CompletedEpochs - state.BestEpoch >= o.EarlyStoppingPatience;
            bool last = stoppedEarly || state.CompletedEpochs == o.Epochs;
            if (o.CheckpointPath is { } path && (state.CompletedEpochs % o.CheckpointEveryEpochs == 0 || last))
                TrainingCheckpoint.Write(path, fingerprint, state, model, optimizer, best);
        }

        if (stoppedEarly)
            _log($"Early stopping: no better validation accuracy for {o.EarlyStoppingPatience} epoch(s); keeping epoch {state.BestEpoch} " +
                 $"(validation accuracy {state.BestValidationAccuracy:F4}).");
        if (best is not null && state.BestEpoch > 0)
            CopyWeights(best, model);
        model.eval();
        return new ResNetTrainingResult(model, state.History, state.BestEpoch, stoppedEarly);
    }

    private (double Loss, double Accuracy, double LearningRate) RunEpoch(ResNet model, TorchSharp.Modules.OptimizerHelper optimizer,
        LabeledImages training, ChannelNormalization normalization, BatchAugmenter augmenter, LearningRateSchedule schedule,
        int epoch, int batchSize, int batchesPerEpoch)
    {
        model.train();
        using var generator = new Generator(EpochSeed(_options.Seed, epoch));
        using var order = randperm(training.Count, generator: generator);
        double lossSum = 0, learningRate = 0;
        long correct = 0;
        for (int batch = 0; batch < batchesPerEpoch; batch++)
        {
            _options.CancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var index = order.narrow(0, (long)batch * batchSize, batchSize);
            var images = augmenter.CropAndFlip(training.Images.index_select(0, index).to(_device), generator);
            images = augmenter.Erase(normalization.Apply(images), generator);
            var labels = training.Labels.index_select(0, index).to(_device);

            learningRate = schedule.At(epoch * batchesPerEpoch + batch);
            foreach (var group in optimizer.ParamGroups)
                group.LearningRate = learningRate;
            optimizer.zero_grad();
            var logits = model.forward(images);
            var loss = nn.functional.cross_entropy(logits, labels, label_smoothing: _options.LabelSmoothing);
            loss.backward();
            optimizer.step();

            lossSum += loss.item<float>() * batchSize;
            correct += logits.argmax(1).eq(labels).sum().item<long>();
            double runningLoss = lossSum / ((batch + 1) * batchSize);
            Progress.Update(epoch + 1, _options.Epochs, batch + 1, batchesPerEpoch, runningLoss);
            if ((batch + 1) % Math.Max(1, batchesPerEpoch / 10) == 0 && batch + 1 < batchesPerEpoch)
                _trace(FormattableString.Invariant($"Epoch {epoch + 1}/{_options.Epochs}: batch {batch + 1}/{batchesPerEpoch}, loss {runningLoss:F4}"));
        }
        double seen = (double)batchesPerEpoch * batchSize;
        return (lossSum / seen, correct / seen, learningRate);
    }

    /// <summary>Mean cross-entropy and accuracy of <paramref name="model"/> on <paramref name="data"/> (eval mode, no gradients).</summary>
    private (double Loss, double Accuracy) Evaluate(ResNet model, LabeledImages data, ChannelNormalization normalization)
    {
        model.eval();
        using var noGrad = no_grad();
        double lossSum = 0;
        long correct = 0;
        for (int start = 0; start < data.Count; start += _options.InferenceBatchSize)
        {
            _options.CancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            int count = Math.Min(_options.InferenceBatchSize, data.Count - start);
            var logits = model.forward(normalization.Apply(data.Images.narrow(0, start, count).to(_device)));
            var labels = data.Labels.narrow(0, start, count).to(_device);
            lossSum += nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).item<float>();
            correct += logits.argmax(1).eq(labels).sum().item<long>();
        }
        model.train();
        return (lossSum / data.Count, (double)correct / data.Count);
    }

    private TorchSharp.Modules.OptimizerHelper CreateOptimizer(ResNet model)
    {
        // Weight decay on convolution and linear weights only; decaying BatchNorm scales and biases hurts (Goyal et al. 2017).
        var decayed = model.parameters().Where(p => p.dim() > 1).ToList();
        var undecayed = model.parameters().Where(p => p.dim() <= 1).ToList();
        var o = _options;
        return o.Optimizer switch
        {
            OptimizerKind.SgdMomentum => optim.SGD(
            [
                new TorchSharp.Modules.SGD.ParamGroup(decayed, o.LearningRate, o.Momentum, 0, o.WeightDecay, o.Nesterov),
                new TorchSharp.Modules.SGD.ParamGroup(undecayed, o.LearningRate, o.Momentum, 0, 0, o.Nesterov),
            ], o.LearningRate, o.Momentum, nesterov: o.Nesterov),
            OptimizerKind.AdamW => optim.AdamW(
            [
                new TorchSharp.Modules.AdamW.ParamGroup(decayed, o.LearningRate, weight_decay: o.WeightDecay),
                new TorchSharp.Modules.AdamW.ParamGroup(undecayed, o.LearningRate, weight_decay: 0),
            ], o.LearningRate),
            _ => throw new InvalidOperationException($"Unknown optimizer {o.Optimizer}."),
        };
    }

    private static void CopyWeights(ResNet source, ResNet target)
    {
        using var noGrad = no_grad();
        var targetState = target.state_dict();
        foreach (var (key, tensor) in source.state_dict())
            targetState[key].copy_(tensor);
    }

    private static ulong EpochSeed(int seed, int epoch) => SplitMix64.ForItem(seed, epoch).NextUInt64();

    /// <summary>Everything that shapes the result; a checkpoint resumes only under an equal fingerprint.</summary>
    private Dictionary<string, string> Fingerprint(ResNetArchitecture architecture, LabeledImages training, LabeledImages? validation,
        ChannelNormalization normalization)
    {
        var o = _options;
        string Number(double x) => x.ToString("R", CultureInfo.InvariantCulture);
        string Floats(IEnumerable<float> xs) => string.Join(" ", xs.Select(x => x.ToString("R", CultureInfo.InvariantCulture)));
        return new Dictionary<string, string>
        {
            ["architecture"] = architecture.ToJson(),
            ["normalization"] = $"{Floats(normalization.Mean)} / {Floats(normalization.StandardDeviation)}",
            ["optimizer"] = $"{o.Optimizer} lr {Number(o.LearningRate)} momentum {Number(o.Momentum)} nesterov {o.Nesterov} decay {Number(o.WeightDecay)}",
            ["schedule"] = $"{o.Schedule} warmup {o.WarmupEpochs} milestones [{string.Join(" ", o.StepMilestones)}] gamma {Number(o.StepGamma)}",
            ["loss"] = $"label smoothing {Number(o.LabelSmoothing)}",
            ["augmentation"] = $"crop {o.RandomCropPadding} flip {o.HorizontalFlip} erasing {Number(o.RandomErasingProbability)}",
            ["batches"] = $"size {o.BatchSize} epochs {o.Epochs} seed {o.Seed}",
            ["early stopping"] = $"patience {o.EarlyStoppingPatience}",
            ["training data"] = $"{training.Count} {training.Shape} {training.ContentHash}",
            ["validation set"] = validation is null ? "none" : $"{validation.Count} {validation.ContentHash}",
        };
    }

    private static string DescribeArchitecture(ResNetArchitecture a) =>
        $"ResNet ({a.Block} blocks [{string.Join(",", a.Layers)}], width {a.BaseWidth}, {(a.SmallImageStem ? "small-image" : "ImageNet")} stem)";
}
