using Microsoft.ML.Data;
using Microsoft.ML.Masking.LayerMasking.Engine;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Models.Onnx;
using Microsoft.ML.Masking.Tests.TestDoubles;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Models;

/// <summary>
/// ML.NET's ImageNet ResNet-18 (package Microsoft.ML.DnnImageFeaturizer.ResNet18), imported into the project's
/// ResNet: it computes what ONNX Runtime computes, and layer masking works on it.
/// </summary>
[TestClass]
public sealed class OnnxResNetImporterTests
{
    private const int Side = 224;
    private const string InputName = "Input247";
    private const string OutputName = "Pooling395_Output_0";

    private static readonly string ModelPath =
        Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    private static ResNet s_network = null!;

    [ClassInitialize]
    public static void LoadOnce(TestContext _) => s_network = OnnxResNetImporter.ImportResNet(ModelPath);

    [ClassCleanup]
    public static void Release() => s_network?.Dispose();

    /// <summary>Mean-subtracted BGR pixels on the 0–255 scale, the range the network's input has.</summary>
    private static Tensor Probe(int batch, ulong seed)
    {
        var generator = new Generator(seed);
        return randn([batch, 3, Side, Side], generator: generator).mul_(40f);
    }

    [TestMethod]
    public void ImportedGraphHasTheBlocksTheFileHas()
    {
        // ML.NET's "ResNet18" (CNTK) has 9 basic blocks, [2, 2, 2, 3], not torchvision's [2, 2, 2, 2]: 22 Conv,
        // 9 Add and 19 Relu nodes. The walk reads the layout from the graph, so this is what it must find.
        var a = s_network.Architecture;
        CollectionAssert.AreEqual(new[] { 2, 2, 2, 3 }, a.Layers);
        Assert.AreEqual(ResidualBlockKind.Basic, a.Block);
        Assert.AreEqual(512, a.FeatureChannels);
        Assert.IsFalse(a.SmallImageStem);
    }

    [TestMethod]
    public void PlainFeaturesEqualOnnxRuntimeThroughApplyOnnxModel()
    {
        using var scope = NewDisposeScope();
        var images = Probe(2, 13);
        using var noGrad = no_grad();
        var ours = s_network.Features(images);

        var ml = new MLContext(seed: 0);
        var rows = Enumerable.Range(0, 2)
            .Select(i => new OnnxInput { Pixels = images[i].contiguous().data<float>().ToArray() })
            .ToList();
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = ml.Transforms.ApplyOnnxModel(OutputName, InputName, ModelPath).Fit(data);
        var runtime = model.Transform(data).GetColumn<float[]>(OutputName).ToArray();
        (model as IDisposable)?.Dispose();

        Assert.HasCount(2, runtime);
        for (int i = 0; i < 2; i++)
            FloatAssert.AreClose(runtime[i], ours[i].data<float>().ToArray(), 1e-4,
                $"row {i}: imported ResNet's features against ONNX Runtime's");
    }

    [TestMethod]
    public void FeaturesOfPreprocessedImagesEqualDnnFeaturizeImage()
    {
        // DnnFeaturizeImage takes planar RGB pixels on the 0–255 scale (ExtractPixels' default) and runs
        // ResNetPreprocess.onnx (RGB → BGR, minus a per-pixel mean image) before the network; do the same here.
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var rgb = rand([2, 3, Side, Side], generator: new Generator(8)).mul_(255f);
        global::Onnx.ModelProto preprocess;
        using (var stream = File.OpenRead(Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNetPrepOnnx", "ResNetPreprocess.onnx")))
            preprocess = global::Onnx.ModelProto.Parser.ParseFrom(stream);
        var meanImage = tensor(preprocess.Graph.Initializer.Single(t => t.Name == "MeanImage").FloatData.ToArray(), [1, 3, Side, Side]);
        var ours = s_network.Features(rgb.flip(1).sub(meanImage));

        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 2)
            .Select(i => new PixelsRow { Pixels = rgb[i].contiguous().data<float>().ToArray() }).ToList());
        var featurizer = ml.Transforms.DnnFeaturizeImage("Features",
            m => m.ModelSelector.ResNet18(ml, m.OutputColumn, m.InputColumn), nameof(PixelsRow.Pixels)).Fit(data);
        var theirs = featurizer.Transform(data).GetColumn<float[]>("Features").ToArray();
        (featurizer as IDisposable)?.Dispose();

        for (int i = 0; i < 2; i++)
            FloatAssert.AreClose(theirs[i], ours[i].data<float>().ToArray(), 1e-4,
                $"row {i}: imported ResNet's features against DnnFeaturizeImage's");
    }

    [TestMethod]
    public void AllOnesKeepMaskEqualsPlainFeatures()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var images = Probe(1, 21);
        using var masked = LayerMaskedNetwork.Create(s_network);
        var features = masked.ForwardWithFeatures(images, ones(1, Side, Side)).Features;
        Assert.IsNotNull(features);
        FloatAssert.AreClose(s_network.Features(images), features, 1e-4, "layer-masked features with nothing removed against the plain pass");
    }

    [TestMethod]
    public void RemovedPixelsDoNotChangeLayerMaskedFeatures()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var images = Probe(1, 34);
        var keep = ones(1, Side, Side);
        keep[.., 40..150, 60..200] = zeros(1, 110, 140);
        var removed = keep.eq(0).unsqueeze(1);
        // Different content (and a NaN) where the mask removes pixels.
        var other = where(removed, Probe(1, 99).mul_(3f), images);
        other[0, 1, 50, 70] = tensor(float.NaN);
        using var masked = LayerMaskedNetwork.Create(s_network);
        var a = masked.ForwardWithFeatures(images, keep).Features!;
        var b = masked.ForwardWithFeatures(other, keep).Features!;
        Assert.IsTrue(a.isfinite().all().item<bool>(), "features are finite");
        Assert.IsTrue(a.eq(b).all().item<bool>(), "the removed pixels' content reaches the features");
        Assert.IsFalse(allclose(a, s_network.Features(images), rtol: 1e-3, atol: 1e-3), "removing pixels changes the features");
    }

    [TestMethod]
    public void GraphThatIsNotAResNetNamesTheNode()
    {
        global::Onnx.ModelProto model;
        using (var stream = File.OpenRead(ModelPath))
            model = global::Onnx.ModelProto.Parser.ParseFrom(stream);
        var relu = model.Graph.Node.Where(n => n.OpType == "Relu").Skip(1).First();
        relu.OpType = "Sigmoid";
        var error = Assert.ThrowsExactly<NotSupportedException>(() => OnnxResNetImporter.ImportResNet(model));
        StringAssert.Contains(error.Message, $"'{relu.Name}' (Sigmoid)");
    }

    private sealed class PixelsRow
    {
        [VectorType(3 * Side * Side)]
        public float[] Pixels { get; set; } = [];
    }

    private sealed class OnnxInput
    {
        [VectorType(1 * 3 * Side * Side)]
        [ColumnName(InputName)]
        public float[] Pixels { get; set; } = [];
    }
}
