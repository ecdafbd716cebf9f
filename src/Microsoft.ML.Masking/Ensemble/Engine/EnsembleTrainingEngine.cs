using System.Globalization;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Randomness;
using Microsoft.ML.Masking.Core.Training;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Training;
using Microsoft.ML.Masking.Training.Engine;
using Microsoft.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Ensemble.Engine;

/// <summary>
/// Trains a dynamic-mask ensemble member after member on the library's <see cref="TrainingLoop"/>. Member 0 is the
/// ordinary classifier, trained by <see cref="ResNetTrainingEngine"/> with the member options and the user seed
/// (the same computation as <see cref="ResNetTrainer"/>). After each member its channel importance on the training
/// data is recorded (<see cref="ChannelImportance.Measure"/>) and it is frozen. Member i &gt; 0 trains with its gate
/// on <see cref="DistilledMemberTask"/>. Each member has its own checkpoint file in the checkpoint folder, so an
/// interrupted run resumes where it stopped and finished members are restored, not retrained.
/// </summary>
internal sealed class EnsembleTrainingEngine(DynamicMaskEnsembleTrainer.Options options, Device device, IHostEnvironment host, IChannel channel,
    Action<int, TrainingProgress> memberStarted)
{
    /// <summary>The seed of member <paramref name="member"/> (member 0: the user seed).</summary>
    public static int MemberSeed(int seed, int member) =>
        member == 0 ? seed : (int)(SeedMixer.ForRow(seed, SeedStream.EnsembleMember, member) & int.MaxValue);

    public EnsembleTrainingResult Train(TrainingExamples training, StreamedExamples? validation, ChannelNormalization normalization)
    {
        var o = options;
        if (o.CheckpointDirectory is { } folder)
            Directory.CreateDirectory(folder);
        var network = new EnsembleNetwork(o.Gating, o.SpatialGateThreshold, o.SpatialGateTemperature);
        var importances = new List<float[]>();
        var histories = new List<IReadOnlyList<ResNetEpochReport>>();
        try
        {
            for (int i = 0; i < o.MemberCount; i++)
            {
                channel.Info(i == 0
                    ? $"Member 1/{o.MemberCount}: the ordinary classifier."
                    : o.DistillationWeight > 0
                        ? FormattableString.Invariant($"Member {i + 1}/{o.MemberCount}: distillation ε {o.Epsilon}, {o.AttackSteps} steps, λ {o.DistillationWeight}, top {o.ImportantChannelShare:P0} channels; gating {o.Gating}.")
                        : $"Member {i + 1}/{o.MemberCount}: no distillation; gating {o.Gating}.");
                histories.Add(i == 0 ? TrainFirst(training, validation, normalization, network) : TrainNext(i, training, validation, normalization, network, importances));
                network.Freeze(device);
                importances.Add(ChannelImportance.Measure(network, i, training, normalization, o.Importance, o.InferenceBatchSize, device, CheckAlive));
            }
            return new EnsembleTrainingResult(network, importances, MemberWeights(network, validation, normalization), histories);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    private IReadOnlyList<ResNetEpochReport> TrainFirst(TrainingExamples training, StreamedExamples? validation, ChannelNormalization normalization,
        EnsembleNetwork network)
    {
        var engine = new ResNetTrainingEngine(options.MemberOptions(options.Seed, CheckpointPath(0)), device, host, channel, _ => { });
        memberStarted(0, engine.Progress);
        var result = engine.Train(training, validation, normalization);
        network.Add(result.Model, null);
        return result.History;
    }

    private IReadOnlyList<ResNetEpochReport> TrainNext(int member, TrainingExamples training, StreamedExamples? validation,
        ChannelNormalization normalization, EnsembleNetwork network, IReadOnlyList<float[]> importances)
    {
        var o = options;
        var m = o.MemberOptions(MemberSeed(o.Seed, member), CheckpointPath(member));
        var architecture = m.Architecture with { InputChannels = training.Shape.Channels, NumClasses = training.ClassCount };
        int channels = architecture.FeatureChannels;
        var model = new ResNet(architecture, m.Seed);
        model.to(device);
        nn.Module<Tensor, Tensor>? gate = o.Gating switch
        {
            EnsembleGating.Learned => new ChannelGate(member * channels, o.GateHiddenUnits, channels, o.GateInitialBias,
                (long)SeedMixer.ForRow(o.Seed, SeedStream.EnsembleMember, member, 1)),
            EnsembleGating.LearnedSpatial => new SpatialGate(member, o.GateInitialBias),
            _ => null,
        };
        gate?.to(device);
        network.Add(model, gate);

        var optimizerSettings = new OptimizerSettings(m.Optimizer, m.LearningRate, m.Momentum, m.Nesterov, m.WeightDecay);
        using var optimizer = optimizerSettings.Create(model.parameters().Concat(gate?.parameters() ?? []));
        var schedule = new LearningRateSchedule(m.LearningRate, m.Schedule, m.WarmupEpochs, m.StepMilestones, m.StepGamma);
        var components = new TrainingComponents().AddModule("resnet", model);
        if (gate is not null)
            components.AddModule("gate", gate);
        components.AddOptimizer("optimizer", optimizer, schedule);

        float pixelMin = training.Images.min().item<float>(), pixelMax = training.Images.max().item<float>();
        var attack = new FeatureDistillationAttack(o.Epsilon, o.AttackSteps, o.EffectiveStepSize, o.AttackMomentum, pixelMin, pixelMax);
        var top = importances.Select(v => tensor(ChannelImportance.TopChannels(v, o.ImportantChannelShare), device: device)).ToList();
        try
        {
            var task = new DistilledMemberTask(network, member, optimizer, normalization,
                new BatchAugmenter(m.RandomCropPadding, m.HorizontalFlip, m.RandomErasingProbability), m.LabelSmoothing, attack,
                o.DistillationWeight, top, validation, o.ImageColumnName, o.LabelColumnName, o.InferenceBatchSize, device, CheckAlive);
            var fingerprint = ResNetTrainingEngine.Fingerprint(m, architecture, optimizerSettings, schedule, validation, normalization);
            fingerprint["ensemble"] = FormattableString.Invariant(
                $"member {member} of {o.MemberCount}, epsilon {o.Epsilon:R} steps {o.AttackSteps} step {o.EffectiveStepSize:R} momentum {o.AttackMomentum:R} lambda {o.DistillationWeight:R} share {o.ImportantChannelShare:R} gating {o.Gating} hidden {o.GateHiddenUnits} bias {o.GateInitialBias:R} pixels {pixelMin:R}..{pixelMax:R} importance {o.Importance} spatial {o.SpatialGateThreshold:R}/{o.SpatialGateTemperature:R}");
            fingerprint["earlier members"] = string.Join(" | ", importances.Select(v => string.Join(" ", v.Select(x => x.ToString("R", CultureInfo.InvariantCulture)))));
            var progress = new TrainingProgress();
            memberStarted(member, progress);
            var loop = new TrainingLoop(new TrainingLoopOptions
            {
                Name = $"Ensemble member {member + 1}", Epochs = m.Epochs, BatchSize = m.BatchSize, Seed = m.Seed, Device = device,
                CheckpointPath = m.CheckpointPath, CheckpointEveryEpochs = m.CheckpointEveryEpochs,
                BestMetric = "accuracy", HigherIsBetter = true, EarlyStoppingPatience = m.EarlyStoppingPatience,
                NumberOfThreads = o.NumberOfThreads, CancellationToken = o.CancellationToken, Fingerprint = fingerprint,
            }, host, channel, progress);
            return loop.Run(task, components, training).History.Select(ResNetTrainingEngine.ToResNetReport).ToList();
        }
        finally
        {
            foreach (var t in top) t.Dispose();
        }
    }

    private float[] MemberWeights(EnsembleNetwork network, StreamedExamples? validation, ChannelNormalization normalization)
    {
        int count = network.Members.Count;
        if (options.Aggregation == EnsembleAggregation.Mean || validation is null)
            return Enumerable.Repeat(1f / count, count).ToArray();
        var accuracies = Enumerable.Range(0, count).Select(i => ResNetClassificationTask.ValidateClassifier(
            x => network.Member(x, i, i > 0 ? network.GateInput(x, i) : null).Logits, normalization, validation,
            options.ImageColumnName, options.LabelColumnName, options.InferenceBatchSize, device, CheckAlive)!["accuracy"]).ToArray();
        double total = accuracies.Sum();
        channel.Info($"Member validation accuracies: {string.Join(", ", accuracies.Select(a => a.ToString("F4", CultureInfo.InvariantCulture)))}.");
        return total > 0 ? accuracies.Select(a => (float)(a / total)).ToArray() : Enumerable.Repeat(1f / count, count).ToArray();
    }

    private string? CheckpointPath(int member) =>
        options.CheckpointDirectory is { } folder ? Path.Combine(folder, $"member-{member}.ckpt") : null;

    private void CheckAlive()
    {
        HostCancellation.ThrowIfCancelled(host);
        options.CancellationToken.ThrowIfCancellationRequested();
    }
}
