using Microsoft.ML.Masking.Core.Persistence;
using Microsoft.ML.Runtime;
using Microsoft.ML.Masking.Tests.TestDoubles;
using Microsoft.ML.Masking.Training;

namespace Microsoft.ML.Masking.Tests.Training;

[TestClass]
public sealed class ResNetTrainerCheckpointTests
{
    public TestContext TestContext { get; set; } = null!;

    private static ResNetTrainer.Options Options(MLContext ml)
    {
        var options = TrainingFixtures.TinyOptions();
        options.Epochs = 3;
        options.RandomErasingProbability = 0.5;
        options.ValidationSet = TrainingFixtures.Shapes(ml, 48, seed: 21);
        options.EarlyStoppingPatience = 3;
        return options;
    }

    [TestMethod]
    public void ResumingAnInterruptedRunGivesTheUninterruptedWeightsBitForBit()
    {
        var ml = new MLContext(1);
        var data = TrainingFixtures.Shapes(ml, 128, seed: 20);
        var uninterrupted = ml.MulticlassClassification.Trainers.ResNet(Options(ml)).Fit(data);

        string checkpoint = Path.Combine(TestFolders.Create(TestContext, "checkpoints"), "run.ckpt");
        using var cancel = new CancellationTokenSource();
        var interrupted = new MLContext(1);
        interrupted.Log += (_, e) => { if (e.Kind == ChannelMessageKind.Info && e.RawMessage.StartsWith("Epoch 2/3: loss", StringComparison.Ordinal)) cancel.Cancel(); };
        var first = Options(interrupted);
        first.CheckpointPath = checkpoint;
        first.CancellationToken = cancel.Token;
        Assert.ThrowsExactly<OperationCanceledException>(() => interrupted.MulticlassClassification.Trainers.ResNet(first).Fit(data));
        Assert.IsTrue(File.Exists(checkpoint), "the checkpoint of epoch 2 was written before epoch 3 was cancelled");

        var resumedContext = new MLContext(1);
        var messages = new List<string>();
        resumedContext.Log += (_, e) => messages.Add(e.Message);
        var second = Options(resumedContext);
        second.CheckpointPath = checkpoint;
        var resumed = resumedContext.MulticlassClassification.Trainers.ResNet(second).Fit(data);

        Assert.IsTrue(messages.Any(m => m.Contains("Resumed from checkpoint", StringComparison.Ordinal) && m.Contains("after epoch 2", StringComparison.Ordinal)));
        CollectionAssert.AreEqual(ModuleWeights.ToSafetensors(uninterrupted.ResNet), ModuleWeights.ToSafetensors(resumed.ResNet));
        CollectionAssert.AreEqual(uninterrupted.TrainingHistory.Select(h => h.TrainingLoss).ToList(), resumed.TrainingHistory.Select(h => h.TrainingLoss).ToList());
        Assert.IsFalse(Directory.GetFiles(Path.GetDirectoryName(checkpoint)!).Any(f => f.EndsWith(".tmp", StringComparison.Ordinal)), "no temporary files are left");
    }

    [TestMethod]
    public void CheckpointOfOtherSettingsIsRefusedNamingWhatDiffers()
    {
        var ml = new MLContext(1);
        var data = TrainingFixtures.Shapes(ml, 64, seed: 22);
        string checkpoint = Path.Combine(TestFolders.Create(TestContext, "checkpoints"), "run.ckpt");
        var options = TrainingFixtures.TinyOptions();
        options.CheckpointPath = checkpoint;
        ml.MulticlassClassification.Trainers.ResNet(options).Fit(data);

        var changed = TrainingFixtures.TinyOptions();
        changed.CheckpointPath = checkpoint;
        changed.LabelSmoothing = 0.1;
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => ml.MulticlassClassification.Trainers.ResNet(changed).Fit(data));
        StringAssert.Contains(e.Message, "loss");
        StringAssert.Contains(e.Message, checkpoint);
    }

    [TestMethod]
    public void ACorruptCheckpointIsReportedAsSuch()
    {
        var ml = new MLContext(1);
        string checkpoint = Path.Combine(TestFolders.Create(TestContext, "checkpoints"), "run.ckpt");
        File.WriteAllText(checkpoint, "not a checkpoint");
        var options = TrainingFixtures.TinyOptions();
        options.CheckpointPath = checkpoint;

        var e = Assert.ThrowsExactly<InvalidDataException>(() =>
            ml.MulticlassClassification.Trainers.ResNet(options).Fit(TrainingFixtures.Shapes(ml, 32, seed: 23)));
        StringAssert.Contains(e.Message, checkpoint);
    }
}
