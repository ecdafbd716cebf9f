using Microsoft.ML.Masking.Core.Segmentation;
using Microsoft.ML.Data;
using Microsoft.ML.Masking.Attribution;
using Microsoft.ML.Masking.Evaluation;
using Microsoft.ML.Masking.LayerMasking;
using static Microsoft.ML.Masking.Tests.Attribution.AttributionTestData;

namespace Microsoft.ML.Masking.Tests.Attribution;

/// <summary>Every bad input of the attribution estimators fails early with a message naming the column or option.</summary>
[TestClass]
public sealed class AttributionBadInputTests
{
    private static readonly Masking.Data.ImageShape LinearShape = new(LinearChannels, LinearSide, LinearSide);

    public sealed class WrongSegmentsRow
    {
        [VectorType(CnnSize)]
        public float[] Image { get; set; } = [];

        [VectorType(36)]
        public float[] Segments { get; set; } = [];
    }

    public sealed class ScalarScore
    {
        public float Score { get; set; }
    }

    public sealed class NoInput
    {
    }

    [TestMethod]
    public void ATargetClassOutOfRangeIsRejectedWhenFitting()
    {
        var ml = new MLContext(0);
        var data = CnnData(ml, 1);
        var estimator = ml.Transforms.Attribution().Saliency(new SaliencyOptions { Classifier = CnnClassifier(), Target = AttributionTarget.FixedClass(4) });
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => estimator.Fit(data));
        StringAssert.Contains(e.Message, "[0, 4)");
        Assert.AreEqual(nameof(AttributionOptions.Target), e.ParamName);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.Attribution().Saliency(new SaliencyOptions { Classifier = CnnClassifier(), Target = AttributionTarget.FixedClass(-1) }));
    }

    [TestMethod]
    public void AnUnknownLayerNameListsTheCandidates()
    {
        var ml = new MLContext(0);
        var e = Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.Attribution().GradCam(new GradCamOptions { Classifier = CnnClassifier(), LayerName = "layer9" }));
        StringAssert.Contains(e.Message, "'layer9'");
        StringAssert.Contains(e.Message, "conv1, bn1, relu, maxpool, layer1, layer1.0, layer2, layer2.0, avgpool, flatten, fc");
    }

    [TestMethod]
    public void AWindowLargerThanTheImageIsRejected()
    {
        var ml = new MLContext(0);
        var data = CnnData(ml, 1);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.Attribution().Occlusion(new OcclusionOptions { Classifier = CnnClassifier(), Window = 17 }).Fit(data));
        StringAssert.Contains(e.Message, "larger than the 16×16 image");
        Assert.AreEqual(nameof(OcclusionOptions.Window), e.ParamName);
    }

    [TestMethod]
    public void ZeroStepsOrSamplesAreRejectedWhenTheEstimatorIsMade()
    {
        var ml = new MLContext(0);
        var catalog = ml.Transforms.Attribution();
        var network = Cnn();
        (string Option, Action Make)[] cases =
        [
            (nameof(IntegratedGradientsOptions.Steps), () => catalog.IntegratedGradients(new IntegratedGradientsOptions { Classifier = CnnClassifier(network), Steps = 0 })),
            (nameof(IntegratedGradientsOptions.Steps), () => catalog.IntegratedGradients(new IntegratedGradientsOptions { Classifier = CnnClassifier(network), Steps = 1, Rule = Masking.Attribution.Engine.IntegrationRule.RiemannLeft })),
            (nameof(LimeOptions.Samples), () => catalog.Lime(new LimeOptions { Classifier = CnnClassifier(network), Samples = 0 })),
            (nameof(KernelShapOptions.Samples), () => catalog.KernelShap(new KernelShapOptions { Classifier = CnnClassifier(network), Samples = 0 })),
            (nameof(RiseOptions.MaskCount), () => catalog.Rise(new RiseOptions { Classifier = CnnClassifier(network), MaskCount = 0 })),
            (nameof(GradientShapOptions.Samples), () => catalog.GradientShap(new GradientShapOptions { Classifier = CnnClassifier(network), Samples = 0 })),
            (nameof(NoiseTunnelOptions.Samples), () => catalog.Saliency(new SaliencyOptions { Classifier = CnnClassifier(network), NoiseTunnel = new NoiseTunnelOptions { Samples = 0 } })),
            (nameof(AttributionOptions.InternalBatchSize), () => catalog.Saliency(new SaliencyOptions { Classifier = CnnClassifier(network), InternalBatchSize = 0 })),
        ];
        foreach (var (option, make) in cases)
            Assert.AreEqual(option, Assert.ThrowsExactly<ArgumentOutOfRangeException>(make).ParamName);
    }

    [TestMethod]
    public void ASegmentColumnOfTheWrongSizeIsRejected()
    {
        var ml = new MLContext(0);
        var data = ml.Data.LoadFromEnumerable(new[] { new WrongSegmentsRow { Image = new float[CnnSize], Segments = new float[36] } });
        var options = new LimeOptions { Classifier = CnnClassifier(), Segmentation = new SegmentationOptions { Kind = SegmentationKind.Column, ColumnName = "Segments" } };
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.Attribution().Lime(options).Fit(data));
        StringAssert.Contains(e.Message, "Schema mismatch for input column 'Segments': expected known-size vector of Single of size 256");
    }

    [TestMethod]
    public void AScoreColumnThatIsNotAFloatVectorIsRejected()
    {
        var ml = new MLContext(0);
        var data = LinearData(ml, 1);
        var scalar = ml.Transforms.CustomMapping<LinearImage, ScalarScore>((i, o) => o.Score = i.Image[0], contractName: null).Fit(data);
        var e = Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.Attribution().Lime(new LimeOptions { Scorer = scalar, ImageShape = LinearShape }).Fit(data));
        StringAssert.Contains(e.Message, "score column 'Score': expected known-size vector of Single, got Single");
        var missing = Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.Attribution().Lime(new LimeOptions { Scorer = scalar, ImageShape = LinearShape, ScoreColumnName = "Probabilities" }).Fit(data));
        StringAssert.Contains(missing.Message, "no column 'Probabilities'");
    }

    [TestMethod]
    public void ATransformerWhoseScoresDoNotDependOnTheImageIsRejected()
    {
        var ml = new MLContext(0);
        var data = LinearData(ml, 1);
        var constant = ml.Transforms.CustomMapping<NoInput, LinearScore>((_, o) => o.Score = [1f, 2f, 3f], contractName: null).Fit(data);
        var e = Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.Attribution().Occlusion(new OcclusionOptions { Scorer = constant, ImageShape = LinearShape }).Fit(data));
        StringAssert.Contains(e.Message, "does not depend on the image column 'Image'");
    }

    [TestMethod]
    public void LayerMaskingWithoutACnnAndAMissingModelAreRejected()
    {
        var ml = new MLContext(0);
        var data = LinearData(ml, 1);
        var scorer = LinearScorer(ml, LinearWeights(), data);
        var e = Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.Attribution().Rise(new RiseOptions { Scorer = scorer, Removal = MaskingMethod.LayerMasking }));
        Assert.AreEqual(nameof(PerturbationAttributionOptions.Removal), e.ParamName);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.Attribution().Rise(new RiseOptions())).Message, "one model");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.Attribution().IntegratedGradients(new IntegratedGradientsOptions())).Message, "needs gradients");
    }

    [TestMethod]
    public void AMissingImageColumnUsesMLNetsWording()
    {
        var ml = new MLContext(0);
        var data = LinearData(ml, 1);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.Attribution().Saliency(new SaliencyOptions { Classifier = CnnClassifier(), ImageColumnName = "Pixels" }).Fit(data));
        StringAssert.Contains(e.Message, "Could not find input column 'Pixels'");
    }
}
