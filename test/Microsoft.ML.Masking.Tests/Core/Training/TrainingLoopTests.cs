using Microsoft.ML.Masking.Core.Training;
using Microsoft.ML.Masking.Tests.TestDoubles;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Masking.Tests.Core.Training;

/// <summary>The training loop with a task other than ResNet classification: two modules, two optimisers, alternating updates.</summary>
[TestClass]
public sealed class TrainingLoopTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void SameSeedGivesBitIdenticalWeightsForBothModules()
    {
        using var examples = LoopFixtures.Examples(40);
        var first = new AdversarialTask(seed: 3);
        var second = new AdversarialTask(seed: 3);
        LoopFixtures.Run(new MLContext(1), first, LoopFixtures.Options(2), examples);
        LoopFixtures.Run(new MLContext(1), second, LoopFixtures.Options(2), examples);
        CollectionAssert.AreEqual(first.Weights()[0], second.Weights()[0]);
        CollectionAssert.AreEqual(first.Weights()[1], second.Weights()[1]);
        CollectionAssert.AreNotEqual(first.Weights()[1], new AdversarialTask(seed: 3).Weights()[1], "the adversary was trained too");
    }

    [TestMethod]
    public void AResumedRunIsBitIdenticalToAnUninterruptedOne()
    {
        using var examples = LoopFixtures.Examples(40);
        var uninterrupted = new AdversarialTask(seed: 3);
        var full = LoopFixtures.Run(new MLContext(1), uninterrupted, LoopFixtures.Options(3), examples);

        string checkpoint = Path.Combine(TestFolders.Create(TestContext, "loop"), "run.ckpt");
        using var cancel = new CancellationTokenSource();
        var interrupted = new AdversarialTask(seed: 3);
        Assert.ThrowsExactly<OperationCanceledException>(() => LoopFixtures.Run(new MLContext(1), interrupted, LoopFixtures.Options(3, checkpoint, cancel.Token), examples,
            loop => loop.EpochFinished += r => { if (r.Epoch == 2) cancel.Cancel(); }));

        var resumed = new AdversarialTask(seed: 99); // other initial weights: everything must come from the checkpoint
        var messages = new List<string>();
        var ml = new MLContext(1);
        ml.Log += (_, e) => { if (e.Kind == ChannelMessageKind.Info) messages.Add(e.RawMessage); };
        var rest = LoopFixtures.Run(ml, resumed, LoopFixtures.Options(3, checkpoint), examples);

        Assert.IsTrue(messages.Any(m => m.StartsWith("Resumed from checkpoint", StringComparison.Ordinal) && m.Contains("after epoch 2 of 3", StringComparison.Ordinal)));
        Assert.HasCount(1, messages.Where(m => m.StartsWith("Epoch ", StringComparison.Ordinal)), "only epoch 3 ran again");
        CollectionAssert.AreEqual(uninterrupted.Weights()[0], resumed.Weights()[0], "classifier");
        CollectionAssert.AreEqual(uninterrupted.Weights()[1], resumed.Weights()[1], "adversary (and both optimisers' state)");
        CollectionAssert.AreEqual(full.History.Select(h => h.Training["loss"]).ToList(), rest.History.Select(h => h.Training["loss"]).ToList());
    }

    [TestMethod]
    public void ACheckpointOfOtherSettingsOrDataIsRefusedNamingWhatDiffers()
    {
        string checkpoint = Path.Combine(TestFolders.Create(TestContext, "loop"), "run.ckpt");
        using var examples = LoopFixtures.Examples(24);
        LoopFixtures.Run(new MLContext(1), new AdversarialTask(3), LoopFixtures.Options(1, checkpoint), examples);

        var settings = Assert.ThrowsExactly<InvalidOperationException>(() => LoopFixtures.Run(new MLContext(1), new AdversarialTask(3),
            LoopFixtures.Options(1, checkpoint, fingerprint: new() { ["task"] = "adversarial v2" }), examples));
        StringAssert.Contains(settings.Message, checkpoint);
        StringAssert.Contains(settings.Message, "(task differ)");

        using var otherData = LoopFixtures.Examples(24, seed: 2);
        var data = Assert.ThrowsExactly<InvalidOperationException>(() =>
            LoopFixtures.Run(new MLContext(1), new AdversarialTask(3), LoopFixtures.Options(1, checkpoint), otherData));
        StringAssert.Contains(data.Message, "(training data differ)");

        var epochs = Assert.ThrowsExactly<InvalidOperationException>(() =>
            LoopFixtures.Run(new MLContext(1), new AdversarialTask(3), LoopFixtures.Options(2, checkpoint), examples));
        StringAssert.Contains(epochs.Message, "(batches differ)");
    }

    [TestMethod]
    public void EarlyStoppingOnALowerIsBetterMetricRestoresTheBestEpoch()
    {
        using var examples = LoopFixtures.Examples(24);
        var task = new AdversarialTask(3, scriptedValidation: [3.0, 2.0, 2.5, 2.1, 1.0, 0.5]);
        var atBest = Array.Empty<byte[]>();
        var result = LoopFixtures.Run(new MLContext(1), task, LoopFixtures.Options(6, patience: 2), examples,
            loop => loop.EpochFinished += r => { if (r.Epoch == 2) atBest = task.Weights(); });

        Assert.IsTrue(result.StoppedEarly);
        Assert.AreEqual(2, result.BestEpoch);
        Assert.HasCount(4, result.History, "two epochs without a lower validation loss after epoch 2");
        CollectionAssert.AreEqual(atBest[0], task.Weights()[0], "the classifier holds epoch 2's weights");
        CollectionAssert.AreEqual(atBest[1], task.Weights()[1], "and so does the adversary");
    }

    [TestMethod]
    public void CancellingTheHostStopsBeforeTheNextStep()
    {
        using var examples = LoopFixtures.Examples(40);
        var ml = new MLContext(1);
        var task = new AdversarialTask(3);
        Assert.ThrowsExactly<OperationCanceledException>(() => LoopFixtures.Run(ml, task, LoopFixtures.Options(3), examples,
            loop => loop.EpochFinished += _ => ml.CancelExecution()));
        Assert.HasCount(5, task.LiveAtStepStart, "one epoch of 40 / 8 steps ran, then the host's cancellation was seen");
    }
}
