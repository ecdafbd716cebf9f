using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core.Persistence;
using Microsoft.ML.Masking.Ensemble;
using Microsoft.ML.Masking.Tests.TestDoubles;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Masking.Tests.Ensemble;

[TestClass]
public sealed class DynamicMaskEnsembleTrainerTests
{
    private static readonly string[] FloatColumns = ["MSP", "Energy", "MutualInformation", "MemberAveragedEnergy", "GateClosure"];

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void MemberZeroIsThePlainResNetTrainedWithTheSameSeed()
    {
        var ml = new MLContext(1);
        var data = TrainingFixtures.Shapes(ml, 96, seed: 30);
        var options = EnsembleFixtures.Options();
        var ensemble = ml.MulticlassClassification.Trainers.DynamicMaskEnsemble(options).Fit(data);

        var plain = options.Member.Clone();
        plain.Seed = options.Seed;
        plain.NumberOfThreads = options.NumberOfThreads;
        var resnet = ml.MulticlassClassification.Trainers.ResNet(plain).Fit(data);

        // The same computation (ResNetTrainingEngine, same options, seed and threads): bit for bit.
        CollectionAssert.AreEqual(ModuleWeights.ToSafetensors(resnet.ResNet), ModuleWeights.ToSafetensors(ensemble.Members[0].Network));
        CollectionAssert.AreNotEqual(ModuleWeights.ToSafetensors(resnet.ResNet), ModuleWeights.ToSafetensors(ensemble.Members[1].Network),
            "member 1 has its own seed and training");
        Assert.AreEqual(2, ensemble.ChannelImportance.MemberCount);
        Assert.HasCount(8, ensemble.ChannelImportance[1]);
    }

    [TestMethod]
    public void OpenSetColumnsAreFiniteAndOrderedAsDocumented()
    {
        var ml = new MLContext(1);
        var data = TrainingFixtures.Shapes(ml, 96, seed: 31);
        var model = ml.MulticlassClassification.Trainers.DynamicMaskEnsemble(EnsembleFixtures.Options(members: 3)).Fit(data);
        var scored = model.Transform(TrainingFixtures.Shapes(ml, 40, seed: 32));

        var scores = TestData.Vectors(scored, "Score");
        var predicted = TestData.Column<uint>(scored, "PredictedLabel");
        var gates = TestData.Vectors(scored, "Gates");
        var columns = FloatColumns.ToDictionary(c => c, c => TestData.Column<float>(scored, c));
        CollectionAssert.AreEqual(new[] { 3, 8 }, ((VectorDataViewType)scored.Schema["Gates"].Type).Dimensions.ToArray());
        for (int i = 0; i < scores.Count; i++)
        {
            Assert.IsTrue(FloatColumns.All(c => float.IsFinite(columns[c][i])), $"row {i}: every open-set score is finite");
            Assert.AreEqual(1, scores[i].Sum(), 1e-5, "Score holds probabilities");
            Assert.AreEqual((uint)Array.IndexOf(scores[i], scores[i].Max()) + 1, predicted[i]);
            Assert.AreEqual(scores[i].Max(), columns["MSP"][i], 1e-6, "MSP is the top probability");
            Assert.IsGreaterThanOrEqualTo(0.25f - 1e-6f, columns["MSP"][i]);
            Assert.IsGreaterThanOrEqualTo(0f, columns["MutualInformation"][i]);
            Assert.IsLessThanOrEqualTo(MathF.Log(4) + 1e-5f, columns["MutualInformation"][i], "mutual information is at most ln(classes)");
            Assert.IsGreaterThanOrEqualTo(columns["MemberAveragedEnergy"][i] - 1e-4f, columns["Energy"][i], "Energy ≥ MemberAveragedEnergy (convexity)");
            Assert.IsTrue(gates[i].Take(8).All(g => g == 1), "member 0's gate row is all ones");
            Assert.IsTrue(gates[i].Skip(8).All(g => g > 0 && g < 1), "gates are in (0, 1)");
            Assert.AreEqual(gates[i].Skip(8).Average(g => 1 - g), columns["GateClosure"][i], 1e-5, "GateClosure is the mean of 1 − gate over members 1, 2");
        }
        Assert.IsTrue(columns["MutualInformation"].Any(v => v > 0), "independently seeded members disagree somewhere");
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        Assert.IsGreaterThanOrEqualTo(0.0, metrics.MicroAccuracy, "Evaluate accepts Score and PredictedLabel");
    }

    [TestMethod]
    public void InterruptedRunResumesPerMemberAndEqualsTheUninterruptedOne()
    {
        var data = TrainingFixtures.Shapes(new MLContext(1), 64, seed: 33);
        var probe = TrainingFixtures.Shapes(new MLContext(1), 24, seed: 34);
        var uninterrupted = new MLContext(1).MulticlassClassification.Trainers.DynamicMaskEnsemble(EnsembleFixtures.Options()).Fit(data);

        string folder = TestFolders.Create(TestContext, "ensemble-checkpoints");
        using var cancel = new CancellationTokenSource();
        var interrupted = new MLContext(1);
        interrupted.Log += (_, e) => { if (e.Kind == ChannelMessageKind.Info && e.RawMessage.StartsWith("Member 2/2:", StringComparison.Ordinal)) cancel.Cancel(); };
        var first = EnsembleFixtures.Options();
        first.CheckpointDirectory = folder;
        first.CancellationToken = cancel.Token;
        Assert.ThrowsExactly<OperationCanceledException>(() => interrupted.MulticlassClassification.Trainers.DynamicMaskEnsemble(first).Fit(data));
        Assert.IsTrue(File.Exists(Path.Combine(folder, "member-0.ckpt")), "member 0's checkpoint was written before member 1 was cancelled");

        var resumedContext = new MLContext(1);
        var messages = new List<string>();
        resumedContext.Log += (_, e) => messages.Add(e.Message);
        var second = EnsembleFixtures.Options();
        second.CheckpointDirectory = folder;
        var resumed = resumedContext.MulticlassClassification.Trainers.DynamicMaskEnsemble(second).Fit(data);

        Assert.IsTrue(messages.Any(m => m.Contains("Resumed from checkpoint", StringComparison.Ordinal) && m.Contains("member-0.ckpt", StringComparison.Ordinal)));
        CollectionAssert.AreEqual(TestData.Vectors(uninterrupted.Transform(probe), "Score").SelectMany(v => v).ToArray(),
            TestData.Vectors(resumed.Transform(probe), "Score").SelectMany(v => v).ToArray(), "same seed: the same ensemble, resumed or not");
    }

    [TestMethod]
    [DataRow(EnsembleGating.Learned)]
    [DataRow(EnsembleGating.LearnedSpatial)]
    public void SavedEnsembleScoresIdenticallyInAFreshProcess(EnsembleGating gating)
    {
        var ml = new MLContext(1);
        var data = TrainingFixtures.Shapes(ml, 64, seed: 35);
        var options = EnsembleFixtures.Options();
        options.Gating = gating;
        options.Aggregation = EnsembleAggregation.ValidationAccuracyWeighted;
        options.ValidationSet = TrainingFixtures.Shapes(ml, 32, seed: 36);
        var model = ml.MulticlassClassification.Trainers.DynamicMaskEnsemble(options).Fit(data);
        Assert.AreEqual(1f, model.MemberWeights.Sum(), 1e-6f);

        string folder = TestFolders.Create(TestContext, $"ensemble-fresh-{gating}");
        string modelPath = Path.Combine(folder, "model.zip");
        var images = ml.Transforms.SelectColumns("Image").Fit(data).Transform(data);
        ml.Model.Save(model, images.Schema, modelPath);
        string imagesPath = Path.Combine(folder, "images.bin");
        using (var writer = new BinaryWriter(File.Create(imagesPath)))
            foreach (var value in TestData.Vectors(data, "Image").SelectMany(r => r))
                writer.Write(value);

        var expected = model.Transform(data);
        var loaded = ml.Model.Load(modelPath, out _);
        foreach (var column in new[] { "Score", "Gates" })
            CollectionAssert.AreEqual(TestData.Vectors(expected, column).SelectMany(v => v).ToArray(),
                TestData.Vectors(loaded.Transform(images), column).SelectMany(v => v).ToArray(), $"{column} after an in-process load");
        foreach (var column in FloatColumns)
            CollectionAssert.AreEqual(TestData.Column<float>(expected, column), TestData.Column<float>(loaded.Transform(images), column), column);

        foreach (var column in new[] { "Score", "Gates" })
        {
            string outputPath = Path.Combine(folder, $"{column}.bin");
            var stdout = FreshProcess.FreshProcessRunner.Run(FreshProcess.SavedEmbedding.Command, modelPath, imagesPath, "16", outputPath, column, "3");
            StringAssert.Contains(stdout, "library-loaded-before-load=False");
            CollectionAssert.AreEqual(TestData.Vectors(expected, column).SelectMany(v => v).ToArray(), FreshProcess.FreshProcessRunner.ReadFloats(outputPath),
                $"{column} in a fresh process");
        }
    }

    [TestMethod]
    [DataRow("MemberCount", 0.0)]
    [DataRow("Epsilon", -0.1)]
    [DataRow("ImportantChannelShare", 0.0)]
    [DataRow("ImportantChannelShare", 1.5)]
    [DataRow("ImportanceSteps", 0.0)]
    [DataRow("ImportanceSamples", 0.0)]
    [DataRow("ImportanceNoiseFraction", -0.5)]
    [DataRow("ImportanceMethod", 7.0)]
    [DataRow("SpatialGateThreshold", -1.0)]
    [DataRow("SpatialGateTemperature", 0.0)]
    [DataRow("Gating", 9.0)]
    public void BadOptionsAreRefusedNamingTheOption(string option, double value)
    {
        var options = EnsembleFixtures.Options();
        switch (option)
        {
            case "MemberCount": options.MemberCount = (int)value; break;
            case "Epsilon": options.Epsilon = value; break;
            case "ImportanceSteps": options.ImportanceSteps = (int)value; break;
            case "ImportanceSamples": options.ImportanceSamples = (int)value; break;
            case "ImportanceNoiseFraction": options.ImportanceNoiseFraction = value; break;
            case "ImportanceMethod": options.ImportanceMethod = (ChannelImportanceMethod)(int)value; break;
            case "SpatialGateThreshold": options.SpatialGateThreshold = value; break;
            case "SpatialGateTemperature": options.SpatialGateTemperature = value; break;
            case "Gating": options.Gating = (EnsembleGating)(int)value; break;
            default: options.ImportantChannelShare = value; break;
        }
        var error = Assert.ThrowsExactly<ArgumentException>(() => new MLContext(1).MulticlassClassification.Trainers.DynamicMaskEnsemble(options));
        StringAssert.Contains(error.Message, $"DynamicMaskEnsembleTrainer.Options.{option}");
        Assert.AreEqual(option, error.ParamName);
    }

    [TestMethod]
    public void LabelThatIsNotAKeyIsRefusedNamingTheColumn()
    {
        var ml = new MLContext(1);
        var data = ml.Transforms.Conversion.MapKeyToValue("Label").Fit(TrainingFixtures.Shapes(ml, 16, seed: 37))
            .Transform(TrainingFixtures.Shapes(ml, 16, seed: 37));
        var trainer = ml.MulticlassClassification.Trainers.DynamicMaskEnsemble(EnsembleFixtures.Options());
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => trainer.Fit(data));
        StringAssert.Contains(error.Message, "'Label'");
        var schemaError = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => trainer.GetOutputSchema(SchemaShape.Create(data.Schema)));
        StringAssert.Contains(schemaError.Message, "'Label'");
    }
}
