using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Randomness;
using Microsoft.ML.Data;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.LayerMasking.Engine;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Tests.FreshProcess;
using Microsoft.ML.Masking.Tests.TestDoubles;
using static Microsoft.ML.Masking.Tests.LayerMasking.TestNetworks;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.LayerMasking;

/// <summary><c>mlContext.Transforms.LayerMask</c> in ImageAnalytics pipelines: batching, persistence, bad input.</summary>
[TestClass]
public sealed class LayerMaskingTransformTests
{
    private const int Side = 32;
    private const int ImageCount = 7;
    private static readonly float[] Mean = [120f, 110f, 100f];
    private static readonly float[] Std = [60f, 55f, 50f];

    public TestContext TestContext { get; set; } = null!;

    private static float[][] Masks(int count, int seed) =>
        Enumerable.Range(0, count).Select(i =>
        {
            using var m = PatchMasks(1, Side, 8, 0.5, seed + i);
            return m.data<float>().ToArray();
        }).ToArray();

    private (MLContext Ml, IDataView Data, string Folder, string Images, float[][] Masks) Setup(int count = ImageCount)
    {
        var folder = TestFolders.Create(TestContext, "layer-mask");
        var images = Path.Combine(folder, "images");
        MaskedImageRows.WriteRandomImages(images, count, seed: 3, width: 40, height: 36);
        var masks = Masks(count, seed: 20);
        var ml = new MLContext(seed: 1);
        return (ml, MaskedImageRows.Load(ml, MaskedImageRows.ForFolder(images, masks), Side * Side), folder, images, masks);
    }

    private static IEstimator<ITransformer> Pixels(MLContext ml, string imageFolder) =>
        ml.Transforms.LoadImages("Image", imageFolder, nameof(MaskedImageRows.Row.ImagePath))
            .Append(ml.Transforms.ResizeImages("Image", Side, Side))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Image"));

    private static ImageClassifier Classifier(ResNet model, int side = Side) =>
        ImageClassifier.FromModule(model, new ChannelNormalization(Mean, Std), new ImageShape(3, side, side));

    private static LayerMaskingOptions Options(ResNet model, MaskingMethod method = MaskingMethod.LayerMasking, int batchSize = 3) => new()
    {
        Classifier = Classifier(model),
        ImageColumnName = "Pixels",
        MaskColumnName = "Mask",
        Method = method,
        BatchSize = batchSize,
        FeaturesColumnName = "Features",
    };

    [TestMethod]
    public void BatchedPipelineScoresEqualTheEngineOnTheSameTensors()
    {
        var (ml, data, _, images, masks) = Setup();
        var network = SmallBasic();
        var fitted = Pixels(ml, images).Append(ml.Transforms.LayerMask(Options(network))).Fit(data);
        var scored = fitted.Transform(data);
        var scores = TestData.Vectors(scored, "Score");
        var features = TestData.Vectors(scored, "Features");
        var pixels = TestData.Vectors(scored, "Pixels");

        using var classifier = new MaskedClassifier(network, MaskingMethod.LayerMasking, new ChannelNormalization(Mean, Std));
        using var noGrad = no_grad(); // the inference path, as the transformer runs it
        var x = tensor(pixels.SelectMany(p => p).ToArray()).reshape(ImageCount, 3, Side, Side);
        var keep = tensor(masks.SelectMany(m => m).ToArray()).reshape(ImageCount, Side, Side);
        var expected = classifier.Forward(x, keep);
        var expectedScores = expected.Logits.softmax(1);
        Assert.HasCount(ImageCount, scores);
        // The pipeline runs batches of 3, the engine here one batch of 7: equal up to rounding.
        for (int i = 0; i < ImageCount; i++)
        {
            FloatAssert.AreClose(expectedScores[i].data<float>().ToArray(), scores[i], 1e-5, $"row {i} score, batches of 3 against one of 7");
            FloatAssert.AreClose(expected.Features![i].data<float>().ToArray(), features[i], 1e-5, $"row {i} features, batches of 3 against one of 7");
            Assert.AreEqual(1.0, scores[i].Sum(), 1e-5, "probabilities");
        }
    }

    [TestMethod]
    public void EveryMethodRunsAndOnlyLayerMaskingIgnoresTheFillColour()
    {
        var (ml, data, _, images, masks) = Setup();
        var network = SmallBasic();
        var pixels = TestData.Vectors(Pixels(ml, images).Fit(data).Transform(data), "Pixels");
        // The same images with every removed pixel painted another colour: white, then a colour of its own per image.
        PixelRow[] Painted(Func<int, int, float> colour) => pixels.Select((p, i) => new PixelRow
        {
            Pixels = p.Select((v, k) => masks[i][k % (Side * Side)] == 0 ? colour(i, k / (Side * Side)) : v).ToArray(),
            Mask = masks[i],
        }).ToArray();
        var asLoaded = pixels.Select((p, i) => new PixelRow { Pixels = p, Mask = masks[i] }).ToArray();
        var white = Painted((_, _) => 255f);
        var tinted = Painted((i, c) => 40f * (i + c) % 256);

        var scores = new Dictionary<MaskingMethod, List<float[]>[]>();
        foreach (var method in Enum.GetValues<MaskingMethod>())
        {
            var transform = ml.Transforms.LayerMask(Options(network, method)).Fit(Load(ml, asLoaded));
            scores[method] = [.. new[] { asLoaded, white, tinted }.Select(rows => TestData.Vectors(transform.Transform(Load(ml, rows)), "Score"))];
            Assert.IsTrue(scores[method].All(run => run.All(r => r.All(float.IsFinite))), $"{method} scores finite");
        }

        // Layer masking never reads a removed pixel: whatever colour they have, the same batches give the same scores.
        int[] Flat(List<float[]> run) => Bits(run.SelectMany(v => v).ToArray());
        var layer = scores[MaskingMethod.LayerMasking];
        CollectionAssert.AreEqual(Flat(layer[0]), Flat(layer[1]), "layer masking, removed pixels white");
        CollectionAssert.AreEqual(Flat(layer[0]), Flat(layer[2]), "layer masking, removed pixels tinted");
        // Blur smears the removed pixels into the hole by design, so the repainting does reach the network...
        var blur = scores[MaskingMethod.Blur];
        Assert.IsTrue(Differ(blur[0], blur[1]) && Differ(blur[0], blur[2]), "blur reads the removed pixels");
        // ...and the painting methods' own fill colour shows: grey and black fill the same holes and disagree.
        Assert.IsTrue(Differ(scores[MaskingMethod.Grey][0], scores[MaskingMethod.Black][0]), "grey against black fill");
        Assert.IsTrue(Differ(scores[MaskingMethod.Grey][0], layer[0]), "grey fill against layer masking");
    }

    [TestMethod]
    public void NoiseBaselineGivesARowTheSameFillInBatchesOfOneAndOfFive()
    {
        // The draws themselves: row i of a five-row batch is the one-row draw for row i, bit for bit (the same computation).
        using var five = RowNoise.Normal(11, SeedStream.LayerMaskNoise, firstRow: 0, [5, 3, 4, 4], CPU);
        for (int i = 0; i < 5; i++)
        {
            using var one = RowNoise.Normal(11, SeedStream.LayerMaskNoise, firstRow: i, [1, 3, 4, 4], CPU);
            CollectionAssert.AreEqual(Bits(five[i].data<float>().ToArray()), Bits(one[0].data<float>().ToArray()), $"row {i}: batch of five against batch of one");
        }

        // Through the transform: the same fill per row, so the scores agree up to the rounding of another batch size.
        var (ml, data, _, images, _) = Setup(count: 5);
        var network = SmallBasic();
        List<float[]> Scores(int batchSize, int seed)
        {
            var options = Options(network, MaskingMethod.Noise, batchSize);
            options.NoiseSeed = seed;
            return TestData.Vectors(Pixels(ml, images).Append(ml.Transforms.LayerMask(options)).Fit(data).Transform(data), "Score");
        }
        var ones = Scores(1, seed: 3);
        var fives = Scores(5, seed: 3);
        for (int i = 0; i < 5; i++)
            FloatAssert.AreClose(fives[i], ones[i], 1e-5, $"row {i}: noise fill in a batch of five against a batch of one");
        Assert.IsTrue(Differ(ones, Scores(1, seed: 4)), "another seed draws other noise (the noise reaches the scores)");
    }

    private static bool Differ(List<float[]> a, List<float[]> b) =>
        a.Zip(b).Any(p => p.First.Zip(p.Second).Any(v => Math.Abs(v.First - v.Second) > 1e-4));

    [TestMethod]
    [Timeout(180_000, CooperativeCancellation = true)]
    public void SavedPipelineLoadsWithIdenticalScoresInAFreshContextAndAFreshProcess()
    {
        var (ml, data, folder, images, masks) = Setup();
        var fitted = Pixels(ml, images).Append(ml.Transforms.LayerMask(Options(SmallBasic()))).Fit(data);
        var expected = TestData.Vectors(fitted.Transform(data), "Score").SelectMany(v => v).ToArray();
        var modelPath = Path.Combine(folder, "model.zip");
        ml.Model.Save(fitted, data.Schema, modelPath);

        var fresh = new MLContext(seed: 5);
        var loaded = fresh.Model.Load(modelPath, out var inputSchema);
        Assert.IsNotNull(inputSchema.GetColumnOrNull("Mask"));
        var again = TestData.Vectors(loaded.Transform(MaskedImageRows.Load(fresh, MaskedImageRows.ForFolder(images, masks), Side * Side)), "Score").SelectMany(v => v).ToArray();
        CollectionAssert.AreEqual(Bits(expected), Bits(again), "fresh MLContext");

        var masksPath = Path.Combine(folder, "masks.bin");
        MaskedImageRows.WriteMasks(masksPath, masks);
        var output = Path.Combine(folder, "scores.bin");
        FreshProcessRunner.Run(LayerMaskScoring.Command, modelPath, images, masksPath, output);
        CollectionAssert.AreEqual(Bits(expected), Bits(FreshProcessRunner.ReadFloats(output)), "fresh process");
    }

    [TestMethod]
    [Timeout(180_000, CooperativeCancellation = true)]
    [DataRow("mobilenet-v3-small", true)] // squeeze-and-excitation, Hardswish, Hardsigmoid, depthwise convolutions, inverted residuals
    [DataRow("resnet18", true)] // saved as the library's ResNet with the same parameter names, loaded as one
    [DataRow("mobilenet-v3-small-10", false)] // head rebuilt after TorchSharp's 1000-class factory
    [DataRow("mobilenet-v2-0.5", false)] // width multiplier
    public void ATorchVisionNetworkSavesAndLoadsWithIdenticalScoresInAFreshProcess(string family, bool freshProcess)
    {
        var (ml, data, folder, images, masks) = Setup(count: 4);
        var network = TorchVisionFamilyTests.Build(family);
        var options = new LayerMaskingOptions
        {
            Classifier = ImageClassifier.FromModule(network, new ChannelNormalization(Mean, Std), new ImageShape(3, Side, Side)),
            ImageColumnName = "Pixels",
            MaskColumnName = "Mask",
            BatchSize = 3,
            FeaturesColumnName = "Features",
        };
        var fitted = Pixels(ml, images).Append(ml.Transforms.LayerMask(options)).Fit(data);
        var expected = TestData.Vectors(fitted.Transform(data), "Score").SelectMany(v => v).ToArray();
        var modelPath = Path.Combine(folder, "model.zip");
        ml.Model.Save(fitted, data.Schema, modelPath);

        var fresh = new MLContext(seed: 5);
        var loaded = fresh.Model.Load(modelPath, out _);
        var again = TestData.Vectors(loaded.Transform(MaskedImageRows.Load(fresh, MaskedImageRows.ForFolder(images, masks), Side * Side)), "Score").SelectMany(v => v).ToArray();
        CollectionAssert.AreEqual(Bits(expected), Bits(again), "fresh MLContext");
        if (!freshProcess) return;
        var masksPath = Path.Combine(folder, "masks.bin");
        MaskedImageRows.WriteMasks(masksPath, masks);
        var output = Path.Combine(folder, "scores.bin");
        FreshProcessRunner.Run(LayerMaskScoring.Command, modelPath, images, masksPath, output);
        CollectionAssert.AreEqual(Bits(expected), Bits(FreshProcessRunner.ReadFloats(output)), "fresh process");
    }

    [TestMethod]
    public void PredictionEngineGivesTheSameScoreAsTheBatchedView()
    {
        var (ml, data, _, images, _) = Setup(count: 3);
        var fitted = Pixels(ml, images).Append(ml.Transforms.LayerMask(Options(SmallBasic()))).Fit(data);
        var batched = TestData.Vectors(fitted.Transform(data), "Score");
        var rows = ml.Data.CreateEnumerable<MaskedImageRows.Row>(data, reuseRowObject: false).ToArray();
        var engine = ml.Model.CreatePredictionEngine<MaskedImageRows.Row, ScoreRow>(fitted, data.Schema);
        for (int i = 0; i < rows.Length; i++)
            FloatAssert.AreClose(batched[i], engine.Predict(rows[i]).Score, 1e-5, $"row {i}: the engine's one row against the view's batch of three, equal up to rounding");
    }

    public sealed class ScoreRow
    {
        public float[] Score { get; set; } = [];
    }

    [TestMethod]
    public void WrongColumnSizesAreNamed()
    {
        var (ml, data, _, images, _) = Setup(count: 2);
        var pixels = Pixels(ml, images).Fit(data).Transform(data);
        var wrongImage = Options(SmallBasic());
        wrongImage.Classifier = Classifier(SmallBasic(), side: 16);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.LayerMask(wrongImage).Fit(pixels));
        StringAssert.Contains(e.Message, "'Pixels'");
        StringAssert.Contains(e.Message, "expected Vector<Single, 3, 16, 16> (planar channels × height × width), 768 values");
        StringAssert.Contains(e.Message, "got Vector<Single, 3, 32, 32>");

        var missing = Options(SmallBasic());
        missing.MaskColumnName = "Keep";
        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.LayerMask(missing).Fit(pixels));
        StringAssert.Contains(e.Message, "Could not find input column 'Keep'");

        var textColumn = Options(SmallBasic());
        textColumn.MaskColumnName = nameof(MaskedImageRows.Row.ImagePath);
        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.LayerMask(textColumn).GetOutputSchema(SchemaShape.Create(pixels.Schema)));
        StringAssert.Contains(e.Message, "'ImagePath'");
    }

    [TestMethod]
    public void NonBinaryMaskAndNonFinitePixelsFailWithTheColumnName()
    {
        var ml = new MLContext(seed: 1);
        var network = SmallBasic();
        var rows = new[] { new PixelRow { Pixels = new float[3 * Side * Side], Mask = Enumerable.Repeat(1f, Side * Side).ToArray() } };
        rows[0].Mask[5] = 0.5f;
        var options = Options(network);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => TestData.Vectors(ml.Transforms.LayerMask(options).Fit(Load(ml, rows)).Transform(Load(ml, rows)), "Score"));
        StringAssert.Contains(e.Message, "'Mask'");
        StringAssert.Contains(e.Message, "0.5");

        rows[0].Mask[5] = 1f;
        rows[0].Pixels[17] = float.NaN;
        e = Assert.ThrowsExactly<InvalidOperationException>(() => TestData.Vectors(ml.Transforms.LayerMask(options).Fit(Load(ml, rows)).Transform(Load(ml, rows)), "Score"));
        StringAssert.Contains(e.Message, "'Pixels'");
        StringAssert.Contains(e.Message, "NaN");
    }

    [TestMethod]
    public void MissingWeightsFileAndBadOptionsAreExplained()
    {
        var ml = new MLContext();
        var path = Path.Combine(Path.GetTempPath(), "no-such-weights.safetensors");
        var e = Assert.ThrowsExactly<FileNotFoundException>(() => ImageClassifier.FromWeights(
            path, ResNetArchitecture.ResNet18(numClasses: 3), ChannelNormalization.ImageNet, new ImageShape(3, Side, Side)));
        StringAssert.Contains(e.Message, path);
        var noClassifier = Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.LayerMask(new LayerMaskingOptions()));
        StringAssert.Contains(noClassifier.Message, "Set LayerMaskingOptions.Classifier");
        var badBatch = Options(SmallBasic(), batchSize: 0);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.LayerMask(badBatch)).Message, "LayerMaskingOptions.BatchSize");
        var badStd = Assert.ThrowsExactly<ArgumentException>(() => new ChannelNormalization(Mean, [1f, 0f, 1f]));
        StringAssert.Contains(badStd.Message, "standardDeviation[1] is 0");
    }

    [TestMethod]
    public void WeightsFileLoadsIntoTheArchitecture()
    {
        var (ml, data, folder, images, _) = Setup(count: 2);
        var network = SmallBasic();
        var path = Path.Combine(folder, "weights.safetensors");
        Microsoft.ML.Masking.Core.Persistence.ModuleWeights.SaveFile(network, path);
        var fromFile = Options(network);
        fromFile.Classifier = ImageClassifier.FromWeights(path, network.Architecture, new ChannelNormalization(Mean, Std), new ImageShape(3, Side, Side));
        var a = TestData.Vectors(Pixels(ml, images).Append(ml.Transforms.LayerMask(Options(network))).Fit(data).Transform(data), "Score");
        var b = TestData.Vectors(Pixels(ml, images).Append(ml.Transforms.LayerMask(fromFile)).Fit(data).Transform(data), "Score");
        CollectionAssert.AreEqual(Bits(a.SelectMany(v => v).ToArray()), Bits(b.SelectMany(v => v).ToArray()));
    }

    public sealed class PixelRow
    {
        [VectorType(3 * Side * Side)]
        public float[] Pixels { get; set; } = [];

        [VectorType(Side * Side)]
        public float[] Mask { get; set; } = [];
    }

    private static IDataView Load(MLContext ml, PixelRow[] rows) => ml.Data.LoadFromEnumerable(rows);

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
