using Microsoft.ML.Masking.Tests.TestDoubles;

namespace Microsoft.ML.Masking.Tests.Core.Training;

/// <summary>A long training run must not grow native memory: each step's tensors are freed, and checkpoints and validation leak nothing.</summary>
[TestClass]
public sealed class TrainingLoopNativeMemoryTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void LiveTensorCountStaysFlatOverManySteps()
    {
        using var examples = LoopFixtures.Examples(64);
        const int epochs = 40;
        var task = new AdversarialTask(3, scriptedValidation: Enumerable.Range(0, epochs).Select(e => 10.0 - e));
        string checkpoint = Path.Combine(TestFolders.Create(TestContext, "loop-memory"), "run.ckpt");
        var options = LoopFixtures.Options(epochs, checkpoint, patience: 5);

        LoopFixtures.Run(new MLContext(1), task, options, examples);

        // 40 epochs × 8 steps, with a checkpoint and a best-weights snapshot after every epoch. The first epoch creates
        // what lives for the whole run: the optimisers' state (momentum, Adam moments) in its first two steps, the
        // best-weights snapshot at its end. From then on every step starts with the same number of live tensors.
        var live = task.LiveAtStepStart;
        Assert.HasCount(epochs * 8, live);
        long steady = live[8];
        for (int i = 8; i < live.Count; i++)
            Assert.AreEqual(steady, live[i], $"live tensors at the start of step {i}");
    }
}
