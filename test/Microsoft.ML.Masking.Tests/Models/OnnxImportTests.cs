using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.LayerMasking.Engine;
using Microsoft.ML.Masking.LayerMasking.Engine.Nodes;
using Microsoft.ML.Masking.Models.Onnx;
using Microsoft.ML.Masking.Tests.FreshProcess;
using Microsoft.ML.Masking.Tests.TestDoubles;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Models;

/// <summary>
/// The general ONNX importer (<see cref="ImageClassifier.FromOnnx"/>) on small models written in the test with random
/// weights — a VGG-like stack, residual blocks, a MobileNet-like inverted residual with depthwise convolutions, Clip,
/// HardSwish, squeeze-and-excitation and SiLU, an Inception-like concatenation: each imports, equals ONNX Runtime, and
/// layer masking on it keeps its promises (all kept = plain, removed pixels have no effect, fast = reference path).
/// </summary>
[TestClass]
public sealed class OnnxImportTests
{
    private const int Side = 32;
    private static readonly ImageShape Shape = new(3, Side, Side);

    public TestContext TestContext { get; set; } = null!;

    private string PathFor(string name) => Path.Combine(TestFolders.Create(TestContext, "onnx-import"), name + ".onnx");

    /// <summary>Conv/BN/ReLU/MaxPool/AveragePool with a dilated convolution, Flatten, Gemm/ReLU/Dropout/Gemm.</summary>
    internal static string VggLike(OnnxGraphBuilder b)
    {
        var x = b.Node("Relu", [b.BatchNorm(b.Conv(b.Input, 3, 8, 3, pad: 1), 8)]);
        x = b.Node("MaxPool", [x], ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }));
        x = b.Node("Relu", [b.Conv(x, 8, 16, 3, pad: 2, dilation: 2)]);
        x = b.Node("AveragePool", [x], ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 1 }));
        x = b.Node("Relu", [b.Conv(x, 16, 16, 3, pad: 1)]);
        x = b.Node("MaxPool", [x], ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }));
        x = b.Node("Flatten", [x], ("axis", 1L));
        x = b.Node("Dropout", [b.Node("Relu", [b.Gemm(x, 16 * 4 * 4, 32)])]);
        return b.Gemm(x, 32, 5);
    }

    /// <summary>A stem, an identity residual block and a downsampling one (1×1 stride-2 shortcut), global pool, Gemm.</summary>
    internal static string Residual(OnnxGraphBuilder b)
    {
        var stem = b.Node("Relu", [b.BatchNorm(b.Conv(b.Input, 3, 8, 3, pad: 1, bias: false), 8)]);
        var a = b.Node("Relu", [b.BatchNorm(b.Conv(stem, 8, 8, 3, pad: 1, bias: false), 8)]);
        a = b.BatchNorm(b.Conv(a, 8, 8, 3, pad: 1, bias: false), 8);
        var x = b.Node("Relu", [b.Node("Add", [a, stem])]);
        var main = b.Node("Relu", [b.BatchNorm(b.Conv(x, 8, 16, 3, stride: 2, pad: 1, bias: false), 16)]);
        main = b.BatchNorm(b.Conv(main, 16, 16, 3, pad: 1, bias: false), 16);
        var shortcut = b.BatchNorm(b.Conv(x, 8, 16, 1, stride: 2, bias: false), 16);
        x = b.Node("Relu", [b.Node("Add", [shortcut, main])]);
        x = b.Node("Flatten", [b.Node("GlobalAveragePool", [x])]);
        return b.Gemm(x, 16, 4);
    }

    /// <summary>
    /// A MobileNet-like network: stride-2 stem with Clip(0, 6), an inverted residual (1×1 expand → HardSwish → depthwise
    /// 3×3 → HardSwish → squeeze-and-excitation with HardSigmoid → 1×1 project, plus the input), a depthwise 5×5 stride-2
    /// convolution with x·Sigmoid(x), global pool, MatMul + Add.
    /// </summary>
    internal static string MobileNetLike(OnnxGraphBuilder b)
    {
        var stem = b.Node("Clip", [b.BatchNorm(b.Conv(b.Input, 3, 16, 3, stride: 2, pad: 1), 16), b.Scalar(0f), b.Scalar(6f)]);
        var x = b.Node("HardSwish", [b.BatchNorm(b.Conv(stem, 16, 32, 1), 32)]);
        var dw = b.Node("HardSwish", [b.BatchNorm(b.Conv(x, 32, 32, 3, pad: 1, group: 32), 32)]);
        var s = b.Node("Relu", [b.Conv(b.Node("GlobalAveragePool", [dw]), 32, 8, 1)]);
        s = b.Node("HardSigmoid", [b.Conv(s, 8, 32, 1)], ("alpha", 1f / 6), ("beta", 0.5f));
        x = b.Node("Mul", [dw, s]);
        x = b.BatchNorm(b.Conv(x, 32, 16, 1), 16);
        x = b.Node("Add", [stem, x]);
        x = b.BatchNorm(b.Conv(x, 16, 16, 5, stride: 2, pad: 2, group: 16), 16);
        x = b.Node("Mul", [x, b.Node("Sigmoid", [x])]);
        x = b.Node("Flatten", [b.Node("GlobalAveragePool", [x])], ("axis", 1L));
        return b.Node("Add", [b.Node("MatMul", [x, b.Constant([16, 6])]), b.Constant([6], -0.1, 0.1)]);
    }

    /// <summary>Inception-like branches (1×1; 1×1 → ReLU → 3×3; 3×3 max-pool) concatenated, ReduceMean, Gemm.</summary>
    internal static string ConcatLike(OnnxGraphBuilder b)
    {
        var stem = b.Node("Relu", [b.Conv(b.Input, 3, 8, 3, pad: 1)]);
        var b1 = b.Conv(stem, 8, 4, 1);
        var b2 = b.Conv(b.Node("Relu", [b.Conv(stem, 8, 4, 1)]), 4, 6, 3, pad: 1);
        var b3 = b.Node("MaxPool", [stem], ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 1, 1 }), ("pads", new long[] { 1, 1, 1, 1 }));
        var x = b.Node("Relu", [b.Node("Concat", [b1, b2, b3], ("axis", 1L))]);
        x = b.Node("ReduceMean", [x], ("axes", new long[] { 2, 3 }), ("keepdims", 0L));
        return b.Gemm(x, 18, 3);
    }

    public static IEnumerable<object[]> Models =>
    [
        ["vgg-like", 5],
        ["residual", 4],
        ["mobilenet-like", 6],
        ["concat", 3],
    ];

    internal static string Write(string name, string path, int seed = 7)
    {
        var b = new OnnxGraphBuilder(3, Side, seed);
        var output = name switch
        {
            "vgg-like" => VggLike(b),
            "residual" => Residual(b),
            "mobilenet-like" => MobileNetLike(b),
            "concat" => ConcatLike(b),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
        };
        return b.Save(output, path);
    }

    private static Tensor Images(int count, ulong seed) => randn([count, 3, Side, Side], generator: new Generator(seed));

    /// <summary>Half of the 8×8 patches removed, different ones per image.</summary>
    private static Tensor Keep(int count, ulong seed) => nn.functional.interpolate(
        rand([count, 1, Side / 8, Side / 8], generator: new Generator(seed)).ge(0.5).to(ScalarType.Float32),
        scale_factor: [8, 8], mode: InterpolationMode.Nearest).squeeze(1);

    [TestMethod]
    [DynamicData(nameof(Models))]
    public void ImportedNetworkEqualsOnnxRuntimeAndLayerMaskingKeepsItsPromises(string name, int classes)
    {
        var path = Write(name, PathFor(name));
        var classifier = ImageClassifier.FromOnnx(path, ChannelNormalization.Identity(3));
        using var network = classifier.Network;
        Assert.IsTrue(classifier.HasClassifierHead);
        Assert.AreEqual(classes, classifier.ClassCount);
        Assert.AreEqual(Shape, classifier.ImageShape, "the image shape is read from the file");
        double vsRuntime = OnnxRuntimeComparison.MaxRelativeDifference(File.ReadAllBytes(path), "image",
            global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph.Output[0].Name, network, Shape, batch: 3, seed: 11);
        Assert.IsLessThanOrEqualTo(1e-4, vsRuntime, $"{name}: imported plain forward against ONNX Runtime, relative to the output scale");

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = Images(3, 5);
        using var masked = LayerMaskedNetwork.Create(network);
        var plain = network.forward(x);
        FloatAssert.AreClose(plain, masked.ForwardPlain(x).Logits, 0, $"{name}: the module's forward is the graph's plain pass");
        FloatAssert.AreClose(plain, masked.Forward(x, ones(3, Side, Side)), 1e-4, $"{name}: all-ones mask against the plain pass");

        var keep = Keep(3, 9);
        var other = where(keep.unsqueeze(1).eq(0), Images(3, 77).mul_(50f), x);
        other[0, 1, 0, 0] = tensor(float.NaN);
        keep[0, 0, 0] = tensor(0f);
        var a = masked.Forward(x, keep);
        var b = masked.Forward(other, keep);
        Assert.IsTrue(a.isfinite().all().item<bool>(), $"{name}: finite layer-masked logits");
        Assert.IsTrue(a.eq(b).all().item<bool>(), $"{name}: the removed pixels' content reaches the output");
        Assert.IsFalse(allclose(a, plain, rtol: 1e-3, atol: 1e-3), $"{name}: removing pixels changes the output");
        FloatAssert.AreClose(masked.ForwardReference(x, keep).Logits, a, 1e-4, $"{name}: fast path against the literal reference path");
        Assert.IsTrue(masked.Forward(x, zeros(3, Side, Side)).isfinite().all().item<bool>(), $"{name}: the empty mask gives finite logits");
    }

    [TestMethod]
    public void GraphIsReadIntoTheEnginesBlocks()
    {
        static IReadOnlyList<GraphNode> Layers(ImageClassifier c)
        {
            using var masked = LayerMaskedNetwork.Create(c.Network);
            return masked.Layers;
        }
        var residual = ImageClassifier.FromOnnx(Write("residual", PathFor("residual")), ChannelNormalization.Identity(3));
        var mobile = ImageClassifier.FromOnnx(Write("mobilenet-like", PathFor("mobilenet")), ChannelNormalization.Identity(3));
        var concat = ImageClassifier.FromOnnx(Write("concat", PathFor("concat")), ChannelNormalization.Identity(3));
        try
        {
            var r = Layers(residual);
            Assert.AreEqual(2, r.OfType<ResidualNode>().Count(), "two residual sums");
            Assert.AreEqual(6, r.OfType<ConvolutionNode>().Count(), "each Conv with its BatchNorm is one node (6 convolutions)");
            Assert.IsFalse(r.OfType<BatchNormNode>().Any(), "no BatchNorm is left on its own");
            var m = Layers(mobile);
            Assert.AreEqual(1, m.OfType<SqueezeExcitationNode>().Count(), "the squeeze-and-excitation block");
            Assert.AreEqual(1, m.OfType<ResidualNode>().Count(), "the inverted residual");
            CollectionAssert.IsSubsetOf(new[] { "ReLU6", "HardSwish", "SiLU" }, m.OfType<ActivationNode>().Select(a => a.Name).ToArray());
            Assert.AreEqual(1, m.OfType<LinearNode>().Count(), "MatMul + Add is one Linear layer");
            Assert.AreEqual(1, Layers(concat).OfType<ConcatNode>().Count(), "the concatenation");
        }
        finally
        {
            residual.Network.Dispose();
            mobile.Network.Dispose();
            concat.Network.Dispose();
        }
    }

    [TestMethod]
    public void AnOpTheEngineCannotMaskIsNamed()
    {
        var b = new OnnxGraphBuilder(3, Side, 1);
        var x = b.Node("LeakyRelu", [b.Conv(b.Input, 3, 4, 3, pad: 1)]);
        var path = b.Save(b.Gemm(b.Node("Flatten", [b.Node("GlobalAveragePool", [x])]), 4, 2), PathFor("leaky"));
        var error = Assert.ThrowsExactly<NotSupportedException>(() => ImageClassifier.FromOnnx(path, ChannelNormalization.Identity(3)));
        StringAssert.Contains(error.Message, $"'{OnnxGraphBuilder.NodeName(x)}' (LeakyRelu)");
    }

    [TestMethod]
    public void PatternsTheEngineCannotMaskAreNamed()
    {
        // A tensor read by two blocks that join at different places (DenseNet's export): not series-parallel.
        var b = new OnnxGraphBuilder(3, Side, 2);
        var stem = b.Conv(b.Input, 3, 4, 3, pad: 1);
        var f1 = b.Node("Relu", [b.Conv(stem, 4, 4, 3, pad: 1)]);
        var c1 = b.Node("Concat", [stem, f1], ("axis", 1L));
        var f2 = b.Node("Relu", [b.Conv(c1, 8, 4, 3, pad: 1)]);
        var c2 = b.Node("Concat", [stem, f1, f2], ("axis", 1L));
        var path = b.Save(b.Gemm(b.Node("Flatten", [b.Node("GlobalAveragePool", [c2])]), 12, 2), PathFor("dense"));
        var error = Assert.ThrowsExactly<NotSupportedException>(() => ImageClassifier.FromOnnx(path, ChannelNormalization.Identity(3)));
        StringAssert.Contains(error.Message, "ONNX node '");
        StringAssert.Contains(error.Message, "series-parallel");

        // A channel scale that is not squeeze-and-excitation (the scales skip the excitation).
        b = new OnnxGraphBuilder(3, Side, 3);
        var map = b.Conv(b.Input, 3, 4, 3, pad: 1);
        var scaled = b.Node("Mul", [map, b.Node("Sigmoid", [b.Node("GlobalAveragePool", [map])])]);
        path = b.Save(b.Gemm(b.Node("Flatten", [b.Node("GlobalAveragePool", [scaled])]), 4, 2), PathFor("scale"));
        error = Assert.ThrowsExactly<NotSupportedException>(() => ImageClassifier.FromOnnx(path, ChannelNormalization.Identity(3)));
        StringAssert.Contains(error.Message, $"'{OnnxGraphBuilder.NodeName(scaled)}' (Mul)");
        StringAssert.Contains(error.Message, "squeeze-and-excitation");

        // Asymmetric padding that symmetric padding cannot reproduce (TensorFlow's SAME_UPPER at stride 2 on an even size).
        b = new OnnxGraphBuilder(3, Side, 4);
        var same = b.Node("Conv", [b.Input, b.Constant([4, 3, 3, 3])], ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("auto_pad", "SAME_UPPER"));
        path = b.Save(b.Gemm(b.Node("Flatten", [b.Node("GlobalAveragePool", [same])]), 4, 2), PathFor("same"));
        error = Assert.ThrowsExactly<NotSupportedException>(() => ImageClassifier.FromOnnx(path, ChannelNormalization.Identity(3)));
        StringAssert.Contains(error.Message, $"'{OnnxGraphBuilder.NodeName(same)}' (Conv)");
        StringAssert.Contains(error.Message, "asymmetric");
    }

    [TestMethod]
    public void AFileWithoutAClassifierGivesItsFeatures()
    {
        var b = new OnnxGraphBuilder(3, Side, 5);
        var x = b.Node("Relu", [b.BatchNorm(b.Conv(b.Input, 3, 8, 3, stride: 2, pad: 1), 8)]);
        var path = b.Save(b.Node("GlobalAveragePool", [x]), PathFor("features"));
        var classifier = ImageClassifier.FromOnnx(path, ChannelNormalization.Identity(3));
        using var network = classifier.Network;
        Assert.IsFalse(classifier.HasClassifierHead);
        Assert.AreEqual(8, classifier.FeatureCount);
        Assert.ThrowsExactly<ArgumentException>(() => ImageClassifier.FromOnnx(path, ChannelNormalization.Identity(3), classNames: ["a", "b"]));
        // As many class names as outputs: a convolutional classifier ending in the pool (SqueezeNet's) gives scores.
        var named = ImageClassifier.FromOnnx(path, ChannelNormalization.Identity(3), classNames: Enumerable.Range(0, 8).Select(i => $"c{i}").ToArray());
        using (named.Network)
        {
            Assert.IsTrue(named.HasClassifierHead);
            Assert.AreEqual(8, named.ClassCount);
        }
    }

    [TestMethod]
    [DynamicData(nameof(Models))]
    public void GradientsFlowThroughTheImportedGraphAndNotToRemovedPixels(string name, int classes)
    {
        var classifier = ImageClassifier.FromOnnx(Write(name, PathFor(name)), ChannelNormalization.Identity(3));
        using var network = classifier.Network;
        using var scope = NewDisposeScope();
        var x = Images(2, 15);
        var keep = Keep(2, 16);
        using var masked = LayerMaskedNetwork.Create(network);
        Tensor inference;
        using (no_grad()) inference = masked.Forward(x, keep);
        var input = x.clone().requires_grad_(true);
        var recorded = masked.Forward(input, keep);
        Assert.AreEqual(classes, (int)recorded.shape[1]);
        FloatAssert.AreClose(inference, recorded.detach(), 1e-4, $"{name}: the autograd path against the inference path");
        recorded.sum().backward();
        var removed = keep.eq(0).unsqueeze(1).expand_as(x);
        Assert.AreEqual(0f, input.grad!.masked_select(removed).abs().max().item<float>(), $"{name}: removed pixels get no gradient");
        Assert.IsGreaterThan(0f, input.grad!.masked_select(removed.logical_not()).abs().max().item<float>(), $"{name}: kept pixels get one");
        Assert.IsTrue(network.parameters().All(p => p.grad is not null), $"{name}: every weight gets a gradient");
    }

    [TestMethod]
    public void IdentityOverASharedInitialiserStaysAConstant()
    {
        // PyTorch's exporter writes Identity nodes over deduplicated initialisers and feeds their outputs to Conv.
        var b = new OnnxGraphBuilder(3, Side, 9);
        var weight = b.Node("Identity", [b.Constant([4, 3, 3, 3])]);
        var conv = b.Node("Conv", [b.Input, weight], ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 }));
        var path = b.Save(b.Gemm(b.Node("Flatten", [b.Node("GlobalAveragePool", [b.Node("Relu", [conv])])]), 4, 2), PathFor("identity"));
        var classifier = ImageClassifier.FromOnnx(path, ChannelNormalization.Identity(3));
        using var network = classifier.Network;
        Assert.AreEqual(2, classifier.ClassCount);
    }

    [TestMethod]
    public void TheImageShapeComesFromTheFileOrTheCallerAndTheOpsetIsChecked()
    {
        string Save(OnnxGraphBuilder b, string name) =>
            b.Save(b.Gemm(b.Node("Flatten", [b.Node("GlobalAveragePool", [b.Conv(b.Input, 3, 4, 3, stride: 2, pad: 1)])]), 4, 2), PathFor(name));
        var free = Save(new OnnxGraphBuilder(3, Side, 8, freeSize: true), "free");
        var error = Assert.ThrowsExactly<NotSupportedException>(() => ImageClassifier.FromOnnx(free, ChannelNormalization.Identity(3)));
        StringAssert.Contains(error.Message, "give the image shape");
        var given = ImageClassifier.FromOnnx(free, ChannelNormalization.Identity(3), new ImageShape(3, 24, 40));
        using (given.Network)
            Assert.AreEqual(new ImageShape(3, 24, 40), given.ImageShape);
        error = Assert.ThrowsExactly<NotSupportedException>(() => ImageClassifier.FromOnnx(free, ChannelNormalization.Identity(1), new ImageShape(1, 24, 40)));
        StringAssert.Contains(error.Message, "image shape given");

        var old = Save(new OnnxGraphBuilder(3, Side, 8, opset: 6), "old");
        error = Assert.ThrowsExactly<NotSupportedException>(() => ImageClassifier.FromOnnx(old, ChannelNormalization.Identity(3)));
        StringAssert.Contains(error.Message, "opset 6");
    }

    [TestMethod]
    [Timeout(180_000, CooperativeCancellation = true)]
    public void SavedPipelineGivesIdenticalScoresInAFreshProcess()
    {
        var folder = TestFolders.Create(TestContext, "onnx-import-save");
        var classifier = ImageClassifier.FromOnnx(Write("mobilenet-like", Path.Combine(folder, "mobilenet.onnx")), ChannelNormalization.ImageNet,
            classNames: ["a", "b", "c", "d", "e", "f"]);
        using var network = classifier.Network;
        var images = MaskedImageRows.WriteRandomImages(Path.Combine(folder, "images"), count: 3, seed: 6);
        var hole = Enumerable.Range(0, Side * Side).Select(p => p / Side is >= 8 and < 24 && p % Side is >= 4 and < 20 ? 0f : 1f).ToArray();
        float[][] masks = [Enumerable.Repeat(1f, Side * Side).ToArray(), hole, hole];
        var ml = new MLContext(seed: 1);
        var data = MaskedImageRows.Load(ml, MaskedImageRows.ForFolder(images, masks), Side * Side);
        var pipeline = ml.Transforms.LoadImages("Image", images, nameof(MaskedImageRows.Row.ImagePath))
            .Append(ml.Transforms.ResizeImages("Image", Side, Side))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Image", scaleImage: 1f / 255))
            .Append(ml.Transforms.LayerMask(new LayerMaskingOptions { Classifier = classifier, ImageColumnName = "Pixels", MaskColumnName = "Mask", BatchSize = 2 }));
        var fitted = pipeline.Fit(data);
        var expected = TestData.Vectors(fitted.Transform(data), "Score").SelectMany(v => v).ToArray();
        Assert.HasCount(3 * 6, expected);
        var modelPath = Path.Combine(folder, "model.zip");
        ml.Model.Save(fitted, data.Schema, modelPath);
        File.Delete(Path.Combine(folder, "mobilenet.onnx"));

        var masksPath = Path.Combine(folder, "masks.bin");
        MaskedImageRows.WriteMasks(masksPath, masks);
        var output = Path.Combine(folder, "scores.bin");
        FreshProcessRunner.Run(LayerMaskScoring.Command, modelPath, images, masksPath, output);
        CollectionAssert.AreEqual(expected, FreshProcessRunner.ReadFloats(output), "scores after loading model.zip (without the ONNX file) in a fresh process");
    }
}
