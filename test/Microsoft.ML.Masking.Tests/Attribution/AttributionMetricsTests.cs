using Microsoft.ML.Masking.Attribution;
using Microsoft.ML.Masking.Attribution.Engine;
using Microsoft.ML.Masking.Attribution.Metrics;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.LayerMasking;
using static Microsoft.ML.Masking.Tests.Attribution.AttributionTestData;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Attribution;

/// <summary>The attribution metrics on hand-made maps and on the shapes data with an oracle attribution.</summary>
[TestClass]
public sealed class AttributionMetricsTests
{
    [TestMethod]
    public void LocalizationMetricsFollowTheirDefinitions()
    {
        float[] mask = [0, 1, 1, 0];
        Assert.AreEqual(1.0, LocalizationMetrics.PointingGame([0.1f, 0.9f, 0.2f, 0.3f], mask));
        Assert.AreEqual(0.0, LocalizationMetrics.PointingGame([0.9f, 0.1f, 0.2f, 0.3f], mask));
        // Positive relevance only: (0.5 + 0) / (0.5 + 0.5) — the negative value on the object does not count.
        Assert.AreEqual(0.5, LocalizationMetrics.RelevanceMass([0.5f, 0.5f, -1f, 0f], mask), 1e-12);
        // The top two pixels are 3 and 1: one of them on the object.
        Assert.AreEqual(0.5, LocalizationMetrics.RelevanceRank([0.1f, 0.8f, 0.0f, 0.9f], mask), 1e-12);
        Assert.IsTrue(double.IsNaN(LocalizationMetrics.PointingGame([1f, 2f], [0f, 0f])), "no object, no value");
        Assert.AreEqual(1.0, RankCorrelation.Spearman([1f, 2f, 3f], [10f, 20f, 30f]), 1e-12);
        Assert.AreEqual(-1.0, RankCorrelation.Spearman([1f, 2f, 3f], [3f, 2f, 1f]), 1e-12);
    }

    [TestMethod]
    public void RoadImputationKeepsKeptPixelsAndFillsAConstantImageWithItsColour()
    {
        using var scope = NewDisposeScope();
        var images = ones(1, 3, 8, 8).mul(tensor(new[] { 0.2f, 0.5f, 0.7f }).view(1, 3, 1, 1));
        var keep = ones(1, 1, 8, 8);
        keep[0, 0, 2, 2] = tensor(0f);
        keep[0, 0, 2, 3] = tensor(0f);
        var varied = images.clone();
        varied[0, 0, 0, 0] = tensor(0.9f);
        var imputed = RoadScorer.Impute(images, keep, noise: 0, iterations: 16, generator: null);
        Assert.IsLessThan(1e-5, imputed.sub(images).abs().max().item<float>());
        var kept = RoadScorer.Impute(varied, keep, noise: 0.01, iterations: 16, generator: new Generator(1));
        Assert.AreEqual(0.9f, kept[0, 0, 0, 0].item<float>(), "kept pixels are untouched");
    }

    private static IDataView OracleData(MLContext ml)
    {
        var shapes = ml.Data.LoadShapes(new ShapesOptions { ImageSize = CnnSide, Count = 4, Seed = 3, Shapes = [ShapeKind.Circle, ShapeKind.Square, ShapeKind.Triangle, ShapeKind.Cross] });
        return ml.Transforms.CopyColumns("Attribution", "ObjectMask").Fit(shapes).Transform(shapes);
    }

    [TestMethod]
    public void AnOracleAttributionLocalisesPerfectlyAndTheCurvesMeetAtTheirEnds()
    {
        var ml = new MLContext(0);
        var data = OracleData(ml);
        var result = ml.AttributionEvaluation().Evaluate(data, new AttributionEvaluationOptions
        {
            Classifier = CnnClassifier(), ObjectMaskColumnName = "ObjectMask", Fractions = [0, 0.5, 1],
            Removals = [MaskingMethod.LayerMasking], TopK = [1, 2], BatchSize = 7,
        });
        Assert.AreEqual(4, result.Rows);
        Assert.AreEqual(1.0, result.PointingGame!.Mean);
        Assert.AreEqual(1.0, result.RelevanceMass!.Mean, 1e-12);
        Assert.AreEqual(1.0, result.RelevanceRank!.Mean, 1e-12);
        CollectionAssert.AreEqual(new[] { "LayerMasking", "Road" }, result.Faithfulness.Select(f => f.Removal).ToArray());
        foreach (var f in result.Faithfulness)
        {
            var deletion = f[AttributionCurveKind.DeletionMostRelevantFirst];
            var lerf = f[AttributionCurveKind.DeletionLeastRelevantFirst];
            var insertion = f[AttributionCurveKind.InsertionMostRelevantFirst];
            // Nothing removed is the whole image, whatever the order; everything inserted is the whole image too.
            Assert.AreEqual(deletion.MeanScores[0], lerf.MeanScores[0], 1e-6, f.Removal);
            Assert.AreEqual(deletion.MeanScores[0], insertion.MeanScores[^1], 1e-5, f.Removal);
            // ROAD's imputation noise differs between the two passes that remove everything.
            Assert.AreEqual(deletion.MeanScores[^1], lerf.MeanScores[^1], f.Removal == "Road" ? 1e-3 : 1e-6, f.Removal);
            Assert.AreEqual(deletion.AreaUnderCurve.Mean, (deletion.MeanScores[0] + 2 * deletion.MeanScores[1] + deletion.MeanScores[2]) / 4, 1e-9, "trapezoid rule");
            Assert.HasCount(2, f.TopKAblationAccuracy);
        }
        Assert.IsNotNull(result.ToJson()["faithfulness"]!["Road"]);
    }

    [TestMethod]
    public void TheMetricsDoNotDependOnTheBatchSize()
    {
        var ml = new MLContext(0);
        var data = OracleData(ml);
        var network = Cnn();
        AttributionEvaluationResult Run(int batch) => ml.AttributionEvaluation().Evaluate(data, new AttributionEvaluationOptions
        {
            Classifier = CnnClassifier(network), Fractions = [0, 0.25, 0.5], Removals = [MaskingMethod.Grey], Road = false, TopK = [1], BatchSize = batch,
        });
        var a = Run(2);
        var b = Run(64);
        Assert.AreEqual(b["Grey"][AttributionCurveKind.DeletionMostRelevantFirst].AreaUnderCurve.Mean, a["Grey"][AttributionCurveKind.DeletionMostRelevantFirst].AreaUnderCurve.Mean, 1e-5);
        Assert.AreEqual(b["Grey"][AttributionCurveKind.InsertionMostRelevantFirst].AreaUnderCurve.Mean, a["Grey"][AttributionCurveKind.InsertionMostRelevantFirst].AreaUnderCurve.Mean, 1e-5);
    }

    [TestMethod]
    public void CompletenessOfIntegratedGradientsIsMeasuredFromTheSummedColumn()
    {
        var ml = new MLContext(0);
        var data = OracleData(ml);
        var network = Cnn();
        var ig = ml.Transforms.Attribution().IntegratedGradients(new IntegratedGradientsOptions
        {
            Classifier = CnnClassifier(network), Steps = 8, ChannelReduction = ChannelReduction.Sum, OutputColumnName = "IG", DeltaColumnName = "Delta",
        }).Fit(data);
        var explained = ig.Transform(data);
        var result = ml.AttributionEvaluation().Evaluate(explained, new AttributionEvaluationOptions
        {
            Classifier = CnnClassifier(network), AttributionColumnName = "IG", CompletenessBaseline = AttributionBaseline.Black,
            Removals = [], Road = true, Fractions = [0, 1], TopK = [1],
        });
        var deltas = Floats(explained, "Delta");
        Assert.AreEqual(4, result.Completeness!.Count);
        Assert.IsGreaterThan(0.0, result.Completeness.Max);
        // The evaluator's relative delta is |delta| / |f(x) − f(b)|, so it is zero exactly when the transformer's delta is.
        Assert.AreEqual(deltas.All(d => d == 0), result.Completeness.Max == 0);
    }

    [TestMethod]
    public void CascadingRandomisationReportsOneStepPerLayerAndSaliencyLosesItsRanking()
    {
        var ml = new MLContext(0);
        var data = CnnData(ml, 3);
        var result = ml.AttributionEvaluation().EvaluateRandomization(data, new SaliencyOptions { Classifier = CnnClassifier(), ChannelReduction = ChannelReduction.MaxAbsolute });
        CollectionAssert.AreEqual(new[] { "fc", "layer2", "layer1", "bn1", "conv1" }, result.Steps.Select(s => s.Layer).ToArray());
        Assert.IsTrue(result.Steps.All(s => s.RankCorrelation.Count == 3 && s.RankCorrelation.Mean < 0.999));
        Assert.IsLessThan(0.9, result.Steps[^1].RankCorrelation.Mean, "with every layer random the map has little to do with the trained one");
    }

    [TestMethod]
    public void RandomisingABatchNormPutsItBackInItsFreshState()
    {
        var network = Cnn();
        var norm = (TorchSharp.Modules.BatchNorm2d)network.named_children().First(c => c.name == "bn1").module;
        Assert.IsGreaterThan(0.0, norm.running_mean!.abs().max().item<float>(), "the fixture's BatchNorm has trained-looking statistics");
        AttributionEvaluationCatalog.Reinitialize(norm, new Generator(1));
        Assert.AreEqual(1f, norm.weight!.min().item<float>());
        Assert.AreEqual(1f, norm.weight!.max().item<float>());
        Assert.AreEqual(0f, norm.bias!.abs().max().item<float>());
        Assert.AreEqual(0f, norm.running_mean!.abs().max().item<float>());
        Assert.AreEqual(1f, norm.running_var!.min().item<float>());
        Assert.AreEqual(1f, norm.running_var!.max().item<float>());
    }

    [TestMethod]
    public void RandomisationExplainsTheTrainedNetworksPredictedClassOnTheRandomisedCopy()
    {
        var ml = new MLContext(0);
        const int rows = 8;
        var data = CnnData(ml, rows);
        ImageClassifier trained = CnnClassifier(Cnn(5)), randomised = CnnClassifier(Cnn(6));
        var pixels = ImageTensor(data, 3, CnnSide);
        long[] Predictions(ImageClassifier c)
        {
            using var _ = no_grad();
            return new TorchClassifier(c).Scores(pixels, ScoreKind.Logit).argmax(1).data<long>().ToArray();
        }
        var trainedClass = Predictions(trained);
        var ownClass = Predictions(randomised);
        var differing = Enumerable.Range(0, rows).Where(i => trainedClass[i] != ownClass[i]).ToArray();
        Assert.IsNotEmpty(differing, "the fixture needs rows where the two networks predict different classes");

        float[][] Saliency(SaliencyOptions o) => Vectors(ml.Transforms.Attribution().Saliency(o).Fit(data).Transform(data), "Attribution");
        var followed = Saliency(new SaliencyOptions { Classifier = randomised, TargetClassifier = trained });
        var own = Saliency(new SaliencyOptions { Classifier = randomised });
        for (int i = 0; i < rows; i++)
        {
            var row = ml.Data.TakeRows(i == 0 ? data : ml.Data.SkipRows(data, i), 1);
            var fixedClass = Vectors(ml.Transforms.Attribution().Saliency(new SaliencyOptions { Classifier = randomised, Target = AttributionTarget.FixedClass((int)trainedClass[i]) })
                .Fit(row).Transform(row), "Attribution")[0];
            // One row against a batch of eight: another float path, so compared relative to the map's scale.
            double scale = fixedClass.Max(Math.Abs);
            for (int j = 0; j < fixedClass.Length; j++)
                Assert.AreEqual(fixedClass[j], followed[i][j], 1e-5 * scale, $"row {i}: the map is of the trained network's class {trainedClass[i]}");
        }
        foreach (int i in differing)
            Assert.IsTrue(own[i].Zip(followed[i]).Any(p => Math.Abs(p.First - p.Second) > 1e-3 * own[i].Max(Math.Abs)),
                $"row {i}: explaining the copy's own class {ownClass[i]} gives another map");
    }
}
