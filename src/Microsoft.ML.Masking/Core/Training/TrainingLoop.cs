using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Masking.Core.Randomness;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core.Training;

/// <summary>
/// The library's one training loop, over any TorchSharp modules: epochs of shuffled batches, per-optimiser
/// learning-rate schedules with warm-up, atomic checkpoints carrying a fingerprint of the options and data, resume,
/// early stopping on a validation metric, progress through an ML.NET channel and cancellation through ML.NET's host.
/// What is trained, and how one batch updates it, is an <see cref="ITrainingTask"/>; see docs/architecture.md.
/// </summary>
/// <remarks>
/// Reproducible by construction: every epoch draws its shuffle (and the task its randomness) from a fresh CPU
/// generator seeded by (seed, epoch), so epoch <c>e</c> is the same whether the run started at 0 or resumed at
/// <c>e</c> from a checkpoint; with the same seed, data, options and thread count the weights are bit-identical.
/// The loop changes no process-wide setting unless asked (<see cref="TrainingLoopOptions.NumberOfThreads"/>).
/// </remarks>
internal sealed class TrainingLoop
{
    private readonly TrainingLoopOptions _options;
    private readonly IHostEnvironment _host;
    private readonly IChannel _channel;

    /// <summary>Creates the loop.</summary>
    /// <param name="options">Epochs, batches, seed, checkpoints, early stopping.</param>
    /// <param name="host">Cancellation (<c>CheckAlive</c>) comes from here.</param>
    /// <param name="channel">Epoch results and one-off messages go out as Info, in-epoch progress as Trace.</param>
    /// <param name="progress">Where live progress is published (a new one when null).</param>
    public TrainingLoop(TrainingLoopOptions options, IHostEnvironment host, IChannel channel, TrainingProgress? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Epochs, 1, nameof(options.Epochs));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1, nameof(options.BatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.CheckpointEveryEpochs, 1, nameof(options.CheckpointEveryEpochs));
        ArgumentOutOfRangeException.ThrowIfNegative(options.EarlyStoppingPatience, nameof(options.EarlyStoppingPatience));
        _options = options;
        _host = host;
        _channel = channel;
        Progress = progress ?? new TrainingProgress();
    }

    /// <summary>Live progress, for progress channels (read from any thread).</summary>
    public TrainingProgress Progress { get; }

    /// <summary>Called after each epoch with its report (after the channel's Info line, before the checkpoint).</summary>
    public event Action<EpochReport>? EpochFinished;

    /// <summary>Steps per epoch for <paramref name="exampleCount"/> examples: whole batches only.</summary>
    public int BatchesPerEpoch(int exampleCount) => exampleCount / BatchSize(exampleCount);

    /// <summary>Trains <paramref name="components"/> with <paramref name="task"/> on <paramref name="examples"/>.</summary>
    /// <exception cref="OperationCanceledException">The host or the options' token was cancelled (the last checkpoint stays).</exception>
    /// <exception cref="InvalidOperationException">A checkpoint of other settings or data exists at the checkpoint path.</exception>
    public TrainingRunResult Run(ITrainingTask task, TrainingComponents components, TrainingExamples examples)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(components);
        ArgumentNullException.ThrowIfNull(examples);
        if (components.Optimizers.Count == 0)
            throw new ArgumentException("The components hold no optimizer; the loop has nothing to step.", nameof(components));
        using var threads = TorchThreads.Use(_options.NumberOfThreads);
        return RunEpochs(task, components, examples);
    }

    private TrainingRunResult RunEpochs(ITrainingTask task, TrainingComponents components, TrainingExamples examples)
    {
        var o = _options;
        int batchSize = BatchSize(examples.Count);
        int batchesPerEpoch = examples.Count / batchSize;
        var fingerprint = Fingerprint(examples);
        bool earlyStopping = o.EarlyStoppingPatience > 0;
        using var best = earlyStopping ? new ModuleSnapshot() : null;

        var state = new TrainingState();
        if (o.CheckpointPath is { } checkpointPath && File.Exists(checkpointPath))
        {
            state = TrainingCheckpoint.Restore(checkpointPath, fingerprint, components, best);
            _channel.Info($"Resumed from checkpoint '{checkpointPath}' after epoch {state.CompletedEpochs} of {o.Epochs}.");
        }

        bool stoppedEarly = earlyStopping && state.CompletedEpochs - state.BestEpoch >= o.EarlyStoppingPatience;
        while (state.CompletedEpochs < o.Epochs && !stoppedEarly)
        {
            var report = RunEpoch(task, components, examples, state.CompletedEpochs, batchSize, batchesPerEpoch);
            state.History.Add(report);
            state.CompletedEpochs = report.Epoch;
            if (report.ValidationMetric(o.BestMetric) is { } metric && IsBetter(metric, state.BestMetric))
            {
                state.BestMetric = metric;
                state.BestEpoch = report.Epoch;
                best?.Take(components.Modules);
            }
            _channel.Info(Describe(report));
            EpochFinished?.Invoke(report);

            stoppedEarly = earlyStopping && state.CompletedEpochs - state.BestEpoch >= o.EarlyStoppingPatience;
            bool last = stoppedEarly || state.CompletedEpochs == o.Epochs;
            if (o.CheckpointPath is { } path && (state.CompletedEpochs % o.CheckpointEveryEpochs == 0 || last))
                TrainingCheckpoint.Write(path, fingerprint, state, components, best);
        }

        if (stoppedEarly)
            _channel.Info(FormattableString.Invariant(
                $"Early stopping: no better validation {o.BestMetric} for {o.EarlyStoppingPatience} epoch(s); keeping epoch {state.BestEpoch} (validation {o.BestMetric} {state.BestMetric:F4})."));
        if (best is { IsTaken: true } && state.BestEpoch > 0)
            best.Restore(components.Modules);
        components.Train(false);
        return new TrainingRunResult(state.History, state.BestEpoch, stoppedEarly);
    }

    private EpochReport RunEpoch(ITrainingTask task, TrainingComponents components, TrainingExamples examples,
        int epoch, int batchSize, int batchesPerEpoch)
    {
        var o = _options;
        var watch = Stopwatch.StartNew();
        components.Train(true);
        var sums = new Dictionary<string, double>();
        double learningRate = 0;
        using (var generator = new Generator(EpochSeed(o.Seed, epoch)))
        using (var order = randperm(examples.Count, generator: generator))
        {
            for (int b = 0; b < batchesPerEpoch; b++)
            {
                HostCancellation.ThrowIfCancelled(_host);
                o.CancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                long step = (long)epoch * batchesPerEpoch + b;
                for (int i = 0; i < components.Optimizers.Count; i++)
                {
                    var (_, optimizer, schedule) = components.Optimizers[i];
                    double rate = schedule.At(step, batchesPerEpoch, o.Epochs);
                    foreach (var group in optimizer.ParamGroups)
                        group.LearningRate = rate;
                    if (i == 0)
                        learningRate = rate;
                }
                var rows = order.narrow(0, (long)b * batchSize, batchSize);
                var images = examples.Images.index_select(0, rows).to(o.Device);
                var labels = examples.Labels?.index_select(0, rows).to(o.Device);
                var weights = examples.Weights?.index_select(0, rows).to(o.Device);
                task.Step(new TrainingBatch(sums, epoch, b, step, rows, images, labels, weights, generator, o.Device));

                double seenSoFar = (double)(b + 1) * batchSize;
                double running = sums.Count == 0 ? double.NaN : sums.First().Value / seenSoFar;
                Progress.Update(epoch + 1, o.Epochs, b + 1, batchesPerEpoch, running);
                if (sums.Count > 0 && (b + 1) % Math.Max(1, batchesPerEpoch / 10) == 0 && b + 1 < batchesPerEpoch)
                    _channel.Trace(FormattableString.Invariant($"Epoch {epoch + 1}/{o.Epochs}: batch {b + 1}/{batchesPerEpoch}, {sums.First().Key} {running:F4}"));
            }
        }
        var elapsed = watch.Elapsed;
        double seen = (double)batchesPerEpoch * batchSize;
        var training = sums.ToDictionary(p => p.Key, p => p.Value / seen);

        components.Train(false);
        var validation = task.Validate();
        return new EpochReport
        {
            Epoch = epoch + 1, Training = training, Validation = validation, LearningRate = learningRate,
            ExamplesPerSecond = seen / elapsed.TotalSeconds, Duration = elapsed,
        };
    }

    private int BatchSize(int exampleCount)
    {
        if (exampleCount < 1)
            throw new InvalidOperationException($"{_options.Name} has no examples.");
        return Math.Min(_options.BatchSize, exampleCount);
    }

    private bool IsBetter(double metric, double? best) =>
        best is not { } b || (_options.HigherIsBetter ? metric > b : metric < b);

    private string Describe(EpochReport r)
    {
        var parts = r.Training.Select(p => FormattableString.Invariant($"{p.Key} {p.Value:F4}"))
            .Concat((r.Validation ?? []).Select(p => FormattableString.Invariant($"validation {p.Key} {p.Value:F4}")));
        return FormattableString.Invariant($"Epoch {r.Epoch}/{_options.Epochs}: {string.Join(", ", parts)}, ") +
               FormattableString.Invariant($"{r.ExamplesPerSecond:F0} images/s, lr {r.LearningRate:G3}, {r.Duration.TotalSeconds:F1} s");
    }

    private static ulong EpochSeed(int seed, int epoch) => SplitMix64.ForItem(seed, epoch).NextUInt64();

    private Dictionary<string, string> Fingerprint(TrainingExamples examples)
    {
        var o = _options;
        var fingerprint = new Dictionary<string, string>(o.Fingerprint)
        {
            ["batches"] = string.Create(CultureInfo.InvariantCulture, $"size {o.BatchSize} epochs {o.Epochs} seed {o.Seed}"),
            ["early stopping"] = string.Create(CultureInfo.InvariantCulture,
                $"patience {o.EarlyStoppingPatience} on validation {o.BestMetric} ({(o.HigherIsBetter ? "higher" : "lower")} is better)"),
            ["training data"] = string.Create(CultureInfo.InvariantCulture, $"{examples.Count} {examples.Shape} {examples.ContentHash}"),
        };
        return fingerprint;
    }
}
