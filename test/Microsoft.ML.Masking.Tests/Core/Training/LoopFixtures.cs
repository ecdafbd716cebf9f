using Microsoft.ML.Masking.Core.Batching;
using Microsoft.ML.Masking.Core.Training;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Training;
using Microsoft.ML.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Core.Training;

/// <summary>
/// A task that is not ResNet classification, to show the loop is generic: a small classifier and an adversary (a
/// perturbation network trained to raise the classifier's loss), two modules, two optimisers, alternating updates,
/// a random draw per step.
/// </summary>
internal sealed class AdversarialTask : ITrainingTask
{
    private readonly Sequential _classifier, _adversary;
    private readonly TrainingComponents _components;
    private readonly Queue<double>? _scriptedValidation;

    public AdversarialTask(int seed, IEnumerable<double>? scriptedValidation = null)
    {
        _classifier = nn.Sequential(nn.Conv2d(1, 4, 3, padding: 1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3));
        _adversary = nn.Sequential(nn.Conv2d(1, 1, 3, padding: 1));
        // Initial weights from the seed's own generator (not the process-wide one), as the library's ResNet does.
        using (var generator = new Generator((ulong)seed))
        using (no_grad())
            foreach (var parameter in _classifier.parameters().Concat(_adversary.parameters()))
                parameter.copy_(randn(parameter.shape, generator: generator) * 0.2f);
        _components = new TrainingComponents()
            .AddModule("classifier", _classifier)
            .AddModule("adversary", _adversary)
            .AddOptimizer("classifier", new OptimizerSettings(OptimizerKind.SgdMomentum, 0.1, WeightDecay: 1e-4).Create(_classifier.parameters()),
                new LearningRateSchedule(0.1, LearningRateScheduleKind.Cosine, WarmupEpochs: 1))
            .AddOptimizer("adversary", new OptimizerSettings(OptimizerKind.AdamW, 0.01).Create(_adversary.parameters()),
                LearningRateSchedule.Constant(0.01));
        _scriptedValidation = scriptedValidation is null ? null : new Queue<double>(scriptedValidation);
    }

    public TrainingComponents Components => _components;

    /// <summary>Live tensors of this thread at the start of each step.</summary>
    public List<long> LiveAtStepStart { get; } = [];

    public void Step(TrainingBatch batch)
    {
        LiveAtStepStart.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        var labels = batch.Labels!;
        var noise = randn(batch.Images.shape, generator: batch.Generator) * 0.05f;
        var perturbed = (batch.Images + _adversary.forward(batch.Images).tanh() * 0.1f + noise).detach();
        var classifier = _components.Optimizer("classifier");
        classifier.zero_grad();
        var loss = nn.functional.cross_entropy(_classifier.forward(perturbed), labels);
        loss.backward();
        classifier.step();
        if (batch.Step % 2 == 1)
        {
            var adversary = _components.Optimizer("adversary");
            adversary.zero_grad();
            var raised = -nn.functional.cross_entropy(_classifier.forward(batch.Images + _adversary.forward(batch.Images).tanh() * 0.1f), labels);
            raised.backward();
            adversary.step();
        }
        batch.Record("loss", loss.item<float>() * batch.Count);
    }

    public Dictionary<string, double>? Validate() =>
        _scriptedValidation is null ? null : new Dictionary<string, double> { ["loss"] = _scriptedValidation.Dequeue() };

    public byte[][] Weights() =>
        [Masking.Core.Persistence.ModuleWeights.ToSafetensors(_classifier), Masking.Core.Persistence.ModuleWeights.ToSafetensors(_adversary)];
}

internal static class LoopFixtures
{
    /// <summary><paramref name="count"/> random 1×6×6 images with three classes.</summary>
    public static TrainingExamples Examples(int count, int seed = 1)
    {
        var data = new IndexedDataView<long>(count, i => i,
        [
            IndexedColumn<long>.FloatTensor("Image", [1, 6, 6], (i, destination) =>
            {
                var random = new Random(seed * 100_000 + (int)i);
                for (int p = 0; p < destination.Length; p++)
                    destination[p] = random.NextSingle();
            }),
            IndexedColumn<long>.ClassKey("Label", ["a", "b", "c"], i => (int)(i % 3)),
        ]);
        return TrainingExamples.Read(new DataViewBatchReader(data, [BatchInputColumn.Image("Image"), BatchInputColumn.Label("Label")]));
    }

    public static TrainingLoopOptions Options(int epochs, string? checkpoint = null, CancellationToken cancel = default,
        int patience = 0, Dictionary<string, string>? fingerprint = null) => new()
    {
        Name = "test training", Epochs = epochs, BatchSize = 8, Seed = 5, CheckpointPath = checkpoint, CancellationToken = cancel,
        EarlyStoppingPatience = patience, BestMetric = "loss", HigherIsBetter = false, NumberOfThreads = 1,
        Fingerprint = fingerprint ?? new Dictionary<string, string> { ["task"] = "adversarial v1" },
    };

    public static TrainingRunResult Run(MLContext ml, AdversarialTask task, TrainingLoopOptions options, TrainingExamples examples,
        Action<TrainingLoop>? configure = null)
    {
        var host = ((IHostEnvironment)ml).Register("TrainingLoopTests");
        using var channel = host.Start("Training");
        var loop = new TrainingLoop(options, host, channel);
        configure?.Invoke(loop);
        return loop.Run(task, task.Components, examples);
    }
}
