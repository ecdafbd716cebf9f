using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core.Persistence;
using Microsoft.ML.Masking.Pretraining;
using Microsoft.ML.Masking.Tests.TestDoubles;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Masking.Tests.Pretraining;

[TestClass]
public sealed class MaskedAutoencoderPretrainerTests
{
    [TestMethod]
    public void TheOptionsDefaultsAreTheEngineDefaults()
    {
        // Both set every masking default, and MaskingSettings.Describe() feeds the checkpoint fingerprint: a default
        // changed on one side only would silently change what a run with default options does and fingerprints.
        Assert.AreEqual(new Microsoft.ML.Masking.Pretraining.Engine.MaskingSettings(),
            new MaskedAutoencoderPretrainer.Options().ToMaskingSettings(),
            "MaskedAutoencoderPretrainer.Options and MaskingSettings disagree on a default");
    }

    public TestContext TestContext { get; set; } = null!;

    private static float[][] Column(IDataView data, string name) => TestData.Vectors(data, name).ToArray();

    [TestMethod]
    public void PretrainingFeedsAnOrdinaryMlNetTrainerAndAddsThePictureColumns()
    {
        var ml = new MLContext(0);
        var data = PretrainingData.Data(ml, 32, seed: 1);
        var options = PretrainingData.Options();
        options.ScoreMapColumnName = "Scores";
        options.ReconstructionColumnName = "Reconstruction";
        options.MaskColumnName = "Mask";
        var pipeline = ml.Transforms.PretrainMaskedAutoencoder(options)
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(labelColumnName: "Label", featureColumnName: "Embedding"));
        var model = pipeline.Fit(data);
        var scored = model.Transform(data);
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        Assert.IsTrue(metrics.MicroAccuracy >= 0 && metrics.MicroAccuracy <= 1);

        var mae = model.OfType<MaskedAutoencoderTransformer>().Single();
        Assert.AreEqual(16, mae.EmbeddingSize);
        Assert.HasCount(2, mae.TrainingHistory);
        Assert.IsTrue(mae.TrainingHistory.All(h => double.IsFinite(h.ReconstructionLoss) && h.AdversarialShare == 0.5));
        var features = mae.Transform(data);
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 16), features.Schema["Embedding"].Type);
        var masks = Column(features, "Mask");
        foreach (var mask in masks)
        {
            // 12 of 16 patches (4 px each) removed: 6 picked by the network (2), 6 at random (1).
            Assert.AreEqual(24, mask.Count(v => v == 2f));
            Assert.AreEqual(24, mask.Count(v => v == 1f));
        }
        var images = Column(features, "Image");
        var reconstructions = Column(features, "Reconstruction");
        for (int i = 0; i < images.Length; i++)
            for (int p = 0; p < images[i].Length; p++)
                if (masks[i][p] == 0)
                    Assert.AreEqual(images[i][p], reconstructions[i][p], 1e-4, "visible pixels are kept");
        Assert.IsTrue(Column(features, "Scores").All(s => s.Length == 64 && s.All(v => v > 0 && v < 1)));
        // The same row gets the same mask in another batch composition.
        var single = Column(mae.Transform(ml.Data.TakeRows(ml.Data.SkipRows(data, 5), 1)), "Mask");
        CollectionAssert.AreEqual(masks[5], single[0]);
    }

    [TestMethod]
    public void ResumingAnInterruptedRunEqualsTheUninterruptedOne()
    {
        var ml = new MLContext(0);
        var data = PretrainingData.Data(ml, 32, seed: 2);
        var uninterrupted = ml.Transforms.PretrainMaskedAutoencoder(PretrainingData.Options()).Fit(data);

        string checkpoint = Path.Combine(TestFolders.Create(TestContext, "mae-checkpoints"), "run.ckpt");
        using var cancel = new CancellationTokenSource();
        var interrupted = new MLContext(0);
        interrupted.Log += (_, e) => { if (e.Kind == ChannelMessageKind.Info && e.RawMessage.StartsWith("Epoch 1/2:", StringComparison.Ordinal)) cancel.Cancel(); };
        var first = PretrainingData.Options();
        first.CheckpointPath = checkpoint;
        first.CancellationToken = cancel.Token;
        Assert.ThrowsExactly<OperationCanceledException>(() => interrupted.Transforms.PretrainMaskedAutoencoder(first).Fit(data));
        Assert.IsTrue(File.Exists(checkpoint));

        var second = PretrainingData.Options();
        second.CheckpointPath = checkpoint;
        var resumed = new MLContext(0).Transforms.PretrainMaskedAutoencoder(second).Fit(data);
        CollectionAssert.AreEqual(ModuleWeights.ToSafetensors(uninterrupted.Network), ModuleWeights.ToSafetensors(resumed.Network));
        CollectionAssert.AreEqual(Column(uninterrupted.Transform(data), "Embedding").SelectMany(r => r).ToArray(),
            Column(resumed.Transform(data), "Embedding").SelectMany(r => r).ToArray());
    }

    [TestMethod]
    public void ASavedPipelineGivesIdenticalEmbeddingsInAFreshProcess()
    {
        var ml = new MLContext(0);
        var data = PretrainingData.Data(ml, 16, seed: 3);
        var options = PretrainingData.Options(MaskingStrategy.Random);
        options.Epochs = 1;
        var model = ml.Transforms.PretrainMaskedAutoencoder(options).Fit(data);
        string folder = TestFolders.Create(TestContext, "mae-fresh");
        string modelPath = Path.Combine(folder, "model.zip");
        ml.Model.Save(model, data.Schema, modelPath);
        string imagesPath = Path.Combine(folder, "images.bin"), outputPath = Path.Combine(folder, "embeddings.bin");
        using (var writer = new BinaryWriter(File.Create(imagesPath)))
            foreach (var value in Column(data, "Image").SelectMany(r => r))
                writer.Write(value);

        var stdout = FreshProcess.FreshProcessRunner.Run(FreshProcess.SavedEmbedding.Command, modelPath, imagesPath,
            PretrainingData.Side.ToString(System.Globalization.CultureInfo.InvariantCulture), outputPath);
        StringAssert.Contains(stdout, "library-loaded-before-load=False");
        CollectionAssert.AreEqual(Column(model.Transform(data), "Embedding").SelectMany(r => r).ToArray(), FreshProcess.FreshProcessRunner.ReadFloats(outputPath));
    }

    [TestMethod]
    public void DiagnosticsMeasureObjectCoverageOnTheShapesData()
    {
        var ml = new MLContext(0);
        var shapes = ml.Data.LoadShapes(new Microsoft.ML.Masking.Data.ShapesOptions { ImageSize = 16, Count = 24, Seed = 4 });
        var options = PretrainingData.Options();
        options.Epochs = 1;
        options.Architecture = options.Architecture with { PatchSize = 4 };
        var model = ml.Transforms.PretrainMaskedAutoencoder(options).Fit(shapes);
        var diagnostics = model.Diagnose(shapes, "ObjectMask");
        Assert.AreEqual(24, diagnostics.Images);
        Assert.AreEqual(12, diagnostics.RemovedPerImage);
        Assert.IsTrue(diagnostics.PositionEntropy is > 0 and <= 1);
        Assert.IsTrue(diagnostics.PairwiseOverlap is > 0 and <= 1);
        Assert.IsNotNull(diagnostics.HardnessGap);
        Assert.IsTrue(diagnostics.ObjectShareMasked is > 0 and <= 1);
        Assert.IsTrue(diagnostics.ObjectShareAdversarial <= diagnostics.ObjectShareMasked);
    }
}
