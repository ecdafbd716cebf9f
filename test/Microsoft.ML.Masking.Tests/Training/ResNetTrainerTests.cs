using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core.Persistence;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Tests.TestDoubles;
using Microsoft.ML.Masking.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Training;

[TestClass]
public sealed class ResNetTrainerTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void TinyResNetLearnsShapesWellAboveChance()
    {
        var ml = new MLContext(1);
        var options = TrainingFixtures.TinyOptions();
        options.Architecture = new ResNetArchitecture { Layers = [1, 1, 1], BaseWidth = 16, SmallImageStem = true };
        options.Epochs = 8;
        options.LearningRate = 0.1;
        options.RandomCropPadding = 0;
        options.WarmupEpochs = 0;

        var model = ml.MulticlassClassification.Trainers.ResNet(options).Fit(TrainingFixtures.Shapes(ml, 3000, seed: 1));
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(TrainingFixtures.Shapes(ml, 400, seed: 2)));

        TestContext.WriteLine($"shapes test accuracy {metrics.MicroAccuracy:F3} (chance 0.25)");
        Assert.IsGreaterThan(0.6, metrics.MicroAccuracy, "four classes: chance is 0.25");
        Assert.HasCount(8, model.TrainingHistory);
        Assert.IsLessThan(model.TrainingHistory[0].TrainingLoss, model.TrainingHistory[^1].TrainingLoss);
    }

    [TestMethod]
    public void OutputIsAnML_NETMulticlassPredictionThatEvaluateAccepts()
    {
        var ml = new MLContext(1);
        var data = TrainingFixtures.Shapes(ml, 200, seed: 3);
        var model = ml.MulticlassClassification.Trainers.ResNet(TrainingFixtures.TinyOptions()).Fit(data);
        var scored = model.Transform(data);

        var score = (VectorDataViewType)scored.Schema["Score"].Type;
        Assert.AreEqual(4, score.Size);
        var slotNames = default(VBuffer<ReadOnlyMemory<char>>);
        scored.Schema["Score"].GetSlotNames(ref slotNames);
        CollectionAssert.AreEqual(TrainingFixtures.FourShapes.Select(s => s.ToString()).ToArray(), slotNames.DenseValues().Select(v => v.ToString()).ToArray());
        var keyValues = default(VBuffer<ReadOnlyMemory<char>>);
        scored.Schema["PredictedLabel"].GetKeyValues(ref keyValues);
        CollectionAssert.AreEqual(slotNames.DenseValues().ToArray(), keyValues.DenseValues().ToArray());

        var scores = TestData.Vectors(scored, "Score");
        var predicted = TestData.Column<uint>(scored, "PredictedLabel");
        var labels = TestData.Column<uint>(scored, "Label");
        Assert.IsTrue(scores.All(s => Math.Abs(s.Sum() - 1) < 1e-5), "scores are probabilities");
        for (int i = 0; i < scores.Count; i++)
            Assert.AreEqual((uint)Array.IndexOf(scores[i], scores[i].Max()) + 1, predicted[i]);

        var metrics = ml.MulticlassClassification.Evaluate(scored);
        double accuracy = predicted.Zip(labels).Count(p => p.First == p.Second) / (double)labels.Count;
        Assert.AreEqual(accuracy, metrics.MicroAccuracy, 1e-9);
    }

    [TestMethod]
    public void ExposedResNetWithItsNormalisationReproducesTheScores()
    {
        var ml = new MLContext(1);
        var data = TrainingFixtures.Shapes(ml, 64, seed: 4);
        var model = ml.MulticlassClassification.Trainers.ResNet(TrainingFixtures.TinyOptions()).Fit(data);
        var images = TestData.Vectors(data, "Image");
        var scores = TestData.Vectors(model.Transform(data), "Score");

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var batch = tensor(images.SelectMany(v => v).ToArray(), [images.Count, 3, 16, 16]);
        var direct = model.ResNet.forward(model.Normalization.Apply(batch)).softmax(1);

        Assert.AreEqual(new ImageShape(3, 16, 16), model.ImageShape);
        var expected = tensor(scores.SelectMany(v => v).ToArray(), [scores.Count, 4]);
        FloatAssert.AreClose(expected, direct, 1e-5, "the network's own forward on all 64 images against the transformer's batches: equal up to rounding");
    }

    [TestMethod]
    public void SameSeedGivesBitIdenticalWeightsAndAnotherSeedDifferentOnes()
    {
        var ml = new MLContext(1);
        var data = TrainingFixtures.Shapes(ml, 160, seed: 5);
        byte[] Train(int seed)
        {
            var options = TrainingFixtures.TinyOptions();
            options.Seed = seed;
            options.RandomErasingProbability = 0.5;
            return ModuleWeights.ToSafetensors(ml.MulticlassClassification.Trainers.ResNet(options).Fit(data).ResNet);
        }

        CollectionAssert.AreEqual(Train(7), Train(7));
        CollectionAssert.AreNotEqual(Train(7), Train(8));
    }

    [TestMethod]
    public void FittedPipelineWithImageAnalyticsSavesAndLoadsInAFreshContext()
    {
        var root = TestFolders.Create(TestContext, "resnet-pipeline");
        var generator = new ShapesGenerator(new ShapesOptions { ImageSize = 16, Seed = 6, Shapes = [ShapeKind.Circle, ShapeKind.Cross] });
        for (int i = 0; i < 24; i++)
        {
            var s = generator.Render(i);
            Directory.CreateDirectory(Path.Combine(root, s.Shape.ToString()));
            var rgba = new byte[16 * 16 * 4];
            for (int p = 0; p < 256; p++)
                for (int c = 0; c < 4; c++)
                    rgba[p * 4 + c] = c == 3 ? (byte)255 : (byte)Math.Round(s.Image[c * 256 + p] * 255);
            using var image = MLImage.CreateFromPixels(16, 16, MLPixelFormat.Rgba32, rgba);
            image.Save(Path.Combine(root, s.Shape.ToString(), $"{i}.png"));
        }
        string modelPath = Path.Combine(root, "model.zip");

        List<float[]> before;
        List<ReadOnlyMemory<char>> beforeClasses;
        {
            var ml = new MLContext(1);
            var files = ml.Data.LoadImageFolder(root);
            var pipeline = ml.Transforms.LoadImagePixels(16, 16)
                .Append(ml.MulticlassClassification.Trainers.ResNet(TrainingFixtures.TinyOptions()))
                .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedShape", "PredictedLabel"));
            var model = pipeline.Fit(files);
            var scored = model.Transform(files);
            before = TestData.Vectors(scored, "Score");
            beforeClasses = TestData.Column<ReadOnlyMemory<char>>(scored, "PredictedShape");
            ml.Model.Save(model, files.Schema, modelPath);
        }

        var fresh = new MLContext(2);
        var loaded = fresh.Model.Load(modelPath, out var inputSchema);
        var rescored = loaded.Transform(fresh.Data.LoadImageFolder(root));
        var after = TestData.Vectors(rescored, "Score");

        Assert.IsNotNull(inputSchema.GetColumnOrNull("ImagePath"));
        Assert.HasCount(before.Count, after);
        for (int i = 0; i < before.Count; i++)
            CollectionAssert.AreEqual(before[i], after[i], $"row {i} scores are bit-identical after loading");
        CollectionAssert.AreEqual(beforeClasses.Select(c => c.ToString()).ToList(),
            TestData.Column<ReadOnlyMemory<char>>(rescored, "PredictedShape").Select(c => c.ToString()).ToList());
        var resnet = ((IEnumerable<ITransformer>)loaded).OfType<ResNetClassificationTransformer>().Single();
        Assert.HasCount(2, resnet.TrainingHistory);
        CollectionAssert.AreEqual(new[] { "Circle", "Cross" }, resnet.ClassNames.ToArray());
        Assert.IsNotNull(fresh.MulticlassClassification.Evaluate(rescored));
    }

    [TestMethod]
    public void ProgressReachesTheMLContextLogOncePerEpoch()
    {
        var ml = new MLContext(1);
        var lines = new List<string>();
        ml.Log += (_, e) => { if (e.Source.StartsWith(ResNetTrainer.RegistrationName, StringComparison.Ordinal)) lines.Add($"{e.Kind}: {e.RawMessage}"); };

        ml.MulticlassClassification.Trainers.ResNet(TrainingFixtures.TinyOptions()).Fit(TrainingFixtures.Shapes(ml, 96, seed: 9));

        var epochs = lines.Where(l => l.StartsWith("Info: Epoch ", StringComparison.Ordinal)).ToList();
        Assert.HasCount(2, epochs);
        StringAssert.StartsWith(epochs[1], "Info: Epoch 2/2: loss ");
        StringAssert.Contains(epochs[1], "images/s");
        Assert.IsTrue(lines.Any(l => l.StartsWith("Trace: Epoch 1/2: batch ", StringComparison.Ordinal)), "in-epoch progress is traced");
    }

    [TestMethod]
    public void EarlyStoppingKeepsTheBestValidationEpoch()
    {
        var ml = new MLContext(1);
        var options = TrainingFixtures.TinyOptions();
        options.Epochs = 6;
        options.ValidationSet = TrainingFixtures.Shapes(ml, 64, seed: 11);
        options.EarlyStoppingPatience = 1;
        options.LearningRate = 0.5; // noisy on purpose, so validation accuracy does not rise every epoch

        var model = ml.MulticlassClassification.Trainers.ResNet(options).Fit(TrainingFixtures.Shapes(ml, 96, seed: 10));
        var history = model.TrainingHistory;
        var best = history.MaxBy(h => h.ValidationAccuracy!.Value)!;
        var kept = ml.MulticlassClassification.Evaluate(model.Transform(options.ValidationSet));

        Assert.IsTrue(history.All(h => h.ValidationAccuracy is not null && h.ValidationLoss is not null));
        Assert.IsTrue(history.Count == 6 || history.Count == best.Epoch + 1, "stops one epoch after the best unless training ends first");
        // The trainer measured the validation set in its own batches and thread count, the transformer scores it in
        // its own: the same weights give the same loss up to rounding, and another epoch's weights a clearly
        // different one. (Accuracy cannot tell epochs apart this way: an arg-max on a near-tie may flip.)
        Assert.IsTrue(history.Where(h => h.Epoch != best.Epoch).All(h => Math.Abs(h.ValidationLoss!.Value - best.ValidationLoss!.Value) > 1e-3 * best.ValidationLoss.Value),
            "the epochs' validation losses differ, so the loss identifies the kept epoch");
        FloatAssert.AreClose(best.ValidationLoss!.Value, kept.LogLoss, 1e-4, $"the kept weights are epoch {best.Epoch}'s: its validation loss against the log-loss of the kept model");
        Assert.AreEqual(best.ValidationAccuracy!.Value, kept.MicroAccuracy, 1.0 / 64 + 1e-9, "and its accuracy, but for one near-tie");
    }

    [TestMethod]
    public void CancellationStopsTrainingBetweenBatches()
    {
        var ml = new MLContext(1);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var options = TrainingFixtures.TinyOptions();
        options.CancellationToken = cancel.Token;

        Assert.ThrowsExactly<OperationCanceledException>(() =>
            ml.MulticlassClassification.Trainers.ResNet(options).Fit(TrainingFixtures.Shapes(ml, 64, seed: 12)));
    }
}
