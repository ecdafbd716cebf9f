using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Models.Onnx;
using Microsoft.ML.Masking.Tests.FreshProcess;
using Microsoft.ML.Masking.Tests.TestDoubles;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Models;

/// <summary>
/// ML.NET's ImageNet ResNet-18 as an <see cref="ImageClassifier"/> (<see cref="ImageClassifier.FromOnnxResNet18"/>):
/// its preprocessing (RGB → BGR, minus a per-pixel mean image, on 0–255) is the classifier's normalisation, so
/// <c>LayerMask</c> takes ExtractPixels' default pixels and writes the pooled features of this headless network.
/// </summary>
[TestClass]
public sealed class OnnxResNet18ClassifierTests
{
    private const int Side = 224;
    private const int Features = 512;
    private static readonly ImageShape Shape = new(3, Side, Side);
    private static readonly string ModelDirectory = Path.Combine(AppContext.BaseDirectory, "DnnImageModels");

    private static ImageClassifier s_classifier = null!;

    public TestContext TestContext { get; set; } = null!;

    [ClassInitialize]
    public static void LoadOnce(TestContext _) => s_classifier = ImageClassifier.FromOnnxResNet18();

    [ClassCleanup]
    public static void Release() => s_classifier?.Network.Dispose();

    private sealed class Row
    {
        [VectorType(3 * Side * Side)]
        public float[] Pixels { get; set; } = [];

        [VectorType(Side * Side)]
        public float[] Mask { get; set; } = [];
    }

    /// <summary>Random RGB pixels on 0–255 (what ExtractPixels writes by default) with keep-masks.</summary>
    private static Row[] Rows(int count, ulong seed, Func<int, float[]> mask)
    {
        using var scope = NewDisposeScope();
        var pixels = rand([count, 3, Side, Side], generator: new Generator(seed)).mul_(255f);
        return Enumerable.Range(0, count).Select(i => new Row { Pixels = pixels[i].data<float>().ToArray(), Mask = mask(i) }).ToArray();
    }

    private static float[] AllKept(int _) => Enumerable.Repeat(1f, Side * Side).ToArray();

    /// <summary>A 110×140 hole, the same in every row.</summary>
    private static float[] Hole(int _)
    {
        var keep = AllKept(0);
        for (int y = 40; y < 150; y++)
            for (int x = 60; x < 200; x++)
                keep[y * Side + x] = 0;
        return keep;
    }

    private static List<float[]> LayerMaskOutput(MLContext ml, IDataView data, ImageClassifier classifier, MaskingMethod method = MaskingMethod.LayerMasking)
    {
        using var transform = ml.Transforms.LayerMask(new LayerMaskingOptions
        {
            Classifier = classifier,
            ImageColumnName = nameof(Row.Pixels),
            MaskColumnName = nameof(Row.Mask),
            Method = method,
            BatchSize = 2,
        }).Fit(data);
        return TestData.Vectors(transform.Transform(data), "Score");
    }

    [TestMethod]
    public void ClassifierHasNoHeadAndTheNetworksPreprocessing()
    {
        Assert.IsFalse(s_classifier.HasClassifierHead);
        Assert.AreEqual(Features, s_classifier.FeatureCount);
        Assert.AreEqual(Shape, s_classifier.ImageShape);
        CollectionAssert.AreEqual(new[] { 2, 1, 0 }, s_classifier.Normalization.ChannelOrder!.ToArray(), "RGB pixels to a BGR network");
        Assert.AreEqual(Shape, s_classifier.Normalization.MeanImageShape);
        Assert.IsNull(s_classifier.ClassNames);
    }

    [TestMethod]
    public void NormalizationIsThePreprocessingGraphsBgrMinusMeanImage()
    {
        // What ResNetPreprocess.onnx computes (its MeanImage initialiser is in BGR order), done by hand.
        global::Onnx.ModelProto preprocess;
        using (var stream = File.OpenRead(Path.Combine(ModelDirectory, "ResNetPrepOnnx", "ResNetPreprocess.onnx")))
            preprocess = global::Onnx.ModelProto.Parser.ParseFrom(stream);
        using var scope = NewDisposeScope();
        var meanBgr = tensor(preprocess.Graph.Initializer.Single(t => t.Name == "MeanImage").FloatData.ToArray(), [1, 3, Side, Side]);
        var rgb = rand([2, 3, Side, Side], generator: new Generator(4)).mul_(255f);
        var n = s_classifier.Normalization;
        Assert.IsTrue(n.Apply(rgb).eq(rgb.flip(1).sub(meanBgr)).all().item<bool>(), "Apply = flip to BGR, minus the mean image");
        Assert.IsTrue(n.Black(CPU).eq(meanBgr.neg()).all().item<bool>(), "black is minus the mean image, in the network's order");
        Assert.IsTrue(n.Apply(n.MeanPixels(CPU)).abs().max().item<float>() == 0, "the mean pixels normalise to 0");
    }

    [TestMethod]
    public void LayerMaskFeaturesWithAnAllKeptMaskEqualDnnFeaturizeImageAndThePlainPass()
    {
        var ml = new MLContext(seed: 0);
        var rows = Rows(2, 8, AllKept);
        var data = ml.Data.LoadFromEnumerable(rows);
        var ours = LayerMaskOutput(ml, data, s_classifier);
        Assert.HasCount(2, ours);
        Assert.HasCount(Features, ours[0]);

        var featurizer = ml.Transforms.DnnFeaturizeImage("Features",
            m => m.ModelSelector.ResNet18(ml, m.OutputColumn, m.InputColumn), nameof(Row.Pixels)).Fit(data);
        var theirs = featurizer.Transform(data).GetColumn<float[]>("Features").ToArray();
        (featurizer as IDisposable)?.Dispose();

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var plain = s_classifier.Network.forward(s_classifier.Normalization.Apply(tensor(rows.SelectMany(r => r.Pixels).ToArray(), [2, 3, Side, Side]))).flatten(1);
        for (int i = 0; i < 2; i++)
        {
            FloatAssert.AreClose(theirs[i], ours[i], 1e-4, $"row {i}: LayerMask's features (nothing removed) against DnnFeaturizeImage's");
            FloatAssert.AreClose(plain[i].data<float>().ToArray(), ours[i], 1e-4, $"row {i}: LayerMask's features (nothing removed) against the plain pass");
        }
    }

    [TestMethod]
    public void RemovedPixelsHaveNoEffectOnLayerMaskFeatures()
    {
        var ml = new MLContext(seed: 0);
        var rows = Rows(2, 11, Hole);
        var repainted = Rows(2, 12, Hole);
        for (int i = 0; i < rows.Length; i++)
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < Side * Side; p++)
                    if (rows[i].Mask[p] == 1)
                        repainted[i].Pixels[c * Side * Side + p] = rows[i].Pixels[c * Side * Side + p];
        var a = LayerMaskOutput(ml, ml.Data.LoadFromEnumerable(rows), s_classifier);
        var b = LayerMaskOutput(ml, ml.Data.LoadFromEnumerable(repainted), s_classifier);
        for (int i = 0; i < 2; i++)
            CollectionAssert.AreEqual(a[i], b[i], $"row {i}: other content in the removed pixels changed the features");
        var whole = LayerMaskOutput(ml, ml.Data.LoadFromEnumerable(rows.Select(r => new Row { Pixels = r.Pixels, Mask = AllKept(0) }).ToArray()), s_classifier);
        Assert.IsTrue(a[0].Zip(whole[0]).Any(p => Math.Abs(p.First - p.Second) > 1e-3), "removing pixels changes the features");
    }

    [TestMethod]
    public void LinearHeadScoresAreTheFeaturesTimesItsWeights()
    {
        var random = new Random(2);
        var weights = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, Features).Select(_ => (float)(random.NextDouble() - 0.5) * 0.1f).ToArray()).ToArray();
        float[] biases = [0.5f, -0.25f, 0.1f];
        var headed = s_classifier.WithLinearHead(weights, biases, ["a", "b", "c"]);
        using var network = headed.Network;
        Assert.IsTrue(headed.HasClassifierHead);
        Assert.AreEqual(3, headed.ClassCount);
        Assert.AreEqual(3, ((OnnxNetwork)headed.Network).OutputSize);

        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromEnumerable(Rows(2, 5, Hole));
        var features = LayerMaskOutput(ml, data, s_classifier);
        using var transform = ml.Transforms.LayerMask(new LayerMaskingOptions
        {
            Classifier = headed, ImageColumnName = nameof(Row.Pixels), MaskColumnName = nameof(Row.Mask), OutputLogits = true, BatchSize = 2,
        }).Fit(data);
        var logits = TestData.Vectors(transform.Transform(data), "Score");
        for (int i = 0; i < 2; i++)
        {
            var expected = weights.Select((w, k) => (float)(w.Zip(features[i], (x, f) => (double)x * f).Sum() + biases[k])).ToArray();
            FloatAssert.AreClose(expected, logits[i], 1e-4, $"row {i}: logits of the head against features · weights + bias");
        }
        var error = Assert.ThrowsExactly<ArgumentException>(() => s_classifier.WithLinearHead(weights, [0f, 0f], null));
        StringAssert.Contains(error.Message, "one bias per class");
    }

    [TestMethod]
    [Timeout(180_000, CooperativeCancellation = true)]
    public void SavedPipelineGivesIdenticalFeaturesInAFreshProcess()
    {
        var folder = TestFolders.Create(TestContext, "onnx-resnet18");
        var images = MaskedImageRows.WriteRandomImages(Path.Combine(folder, "images"), count: 2, seed: 6);
        float[][] masks = [AllKept(0), Hole(0)];
        var ml = new MLContext(seed: 1);
        var data = MaskedImageRows.Load(ml, MaskedImageRows.ForFolder(images, masks), Side * Side);
        var pipeline = ml.Transforms.LoadImages("Image", images, nameof(MaskedImageRows.Row.ImagePath))
            .Append(ml.Transforms.ResizeImages("Image", Side, Side))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Image"))
            .Append(ml.Transforms.LayerMask(new LayerMaskingOptions { Classifier = s_classifier, ImageColumnName = "Pixels", MaskColumnName = "Mask", BatchSize = 2 }));
        var fitted = pipeline.Fit(data);
        var expected = TestData.Vectors(fitted.Transform(data), "Score").SelectMany(v => v).ToArray();
        Assert.HasCount(2 * Features, expected);
        var modelPath = Path.Combine(folder, "model.zip");
        ml.Model.Save(fitted, data.Schema, modelPath);

        var masksPath = Path.Combine(folder, "masks.bin");
        MaskedImageRows.WriteMasks(masksPath, masks);
        var output = Path.Combine(folder, "features.bin");
        FreshProcessRunner.Run(LayerMaskScoring.Command, modelPath, images, masksPath, output);
        CollectionAssert.AreEqual(expected, FreshProcessRunner.ReadFloats(output), "features after loading model.zip in a fresh process");
    }

    [TestMethod]
    public void PixelsInZeroToOneGiveTheNetworkTheSameInputAsZeroTo255()
    {
        var unit = ImageClassifier.FromOnnxResNet18(pixelMaximum: 1f);
        using var network = unit.Network;
        using var scope = NewDisposeScope();
        var pixels = rand([1, 3, Side, Side], generator: new Generator(3)).mul_(255f).round_();
        FloatAssert.AreClose(s_classifier.Normalization.Apply(pixels), unit.Normalization.Apply(pixels.div(255f)), 1e-5,
            "the network's input from 0–1 pixels against the same image on 0–255");
    }

    [TestMethod]
    public void PixelsOnTheOtherScaleThanTheClassifiersAreReported()
    {
        using var scope = NewDisposeScope();
        var bytes = rand([1, 3, Side, Side], generator: new Generator(7)).mul_(255f);
        var unit = ImageClassifier.FromOnnxResNet18(pixelMaximum: 1f);
        using var network = unit.Network;
        Assert.IsNull(PixelScaleCheck.Check(bytes, s_classifier.Normalization, "Pixels"), "0–255 pixels for the 0–255 classifier");
        Assert.IsNull(PixelScaleCheck.Check(bytes.div(255f), unit.Normalization, "Pixels"), "0–1 pixels for the 0–1 classifier");
        StringAssert.Contains(PixelScaleCheck.Check(bytes.div(255f), s_classifier.Normalization, "Pixels"), "pixelMaximum: 1");
        StringAssert.Contains(PixelScaleCheck.Check(bytes, unit.Normalization, "Pixels"), "pixelMaximum: 255");
    }

    [TestMethod]
    public void EvaluatorsRefuseAClassifierWithoutAHead()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => s_classifier.RequireClassifierHead("The masking evaluation"));
        StringAssert.Contains(error.Message, "WithLinearHead");
    }

    [TestMethod]
    public void PreprocessingGraphWithAnotherNodeIsNamed()
    {
        global::Onnx.ModelProto preprocess;
        using (var stream = File.OpenRead(Path.Combine(ModelDirectory, "ResNetPrepOnnx", "ResNetPreprocess.onnx")))
            preprocess = global::Onnx.ModelProto.Parser.ParseFrom(stream);
        var sub = preprocess.Graph.Node.Single(n => n.OpType == "Sub");
        sub.OpType = "Div";
        var error = Assert.ThrowsExactly<NotSupportedException>(() => OnnxResNetImporter.ReadMeanImagePreprocessing(preprocess));
        StringAssert.Contains(error.Message, $"'{sub.Name}' (Div)");
    }
}
