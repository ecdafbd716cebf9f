using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Segmentation;
using Microsoft.ML.Masking.Data;
using System.Xml.Linq;
using Microsoft.ML.Masking.Evaluation;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.LayerMasking.Engine;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Training;
using static Microsoft.ML.Masking.Tests.Evaluation.EvaluationTestData;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Evaluation;

/// <summary><c>mlContext.MaskingEvaluation().EvaluateFeatureRemoval</c>: curve endpoints, seeding, orders, output files, bad input.</summary>
[TestClass]
public sealed class FeatureRemovalTests
{
    private const int RowCount = 12;

    private static FeatureRemovalOptions Options(ResNet network, params MaskingMethod[] methods) => new()
    {
        Classifier = Classifier(network),
        Methods = methods.Length > 0 ? methods : Enum.GetValues<MaskingMethod>(),
        Segmentation = new SegmentationOptions { PatchSize = 4 },
        BatchSize = 5,
        Seed = 3,
    };

    [TestMethod]
    public void NothingRemovedGivesTheCleanAccuracyForEveryMethod()
    {
        var ml = new MLContext(seed: 0);
        var network = Network();
        var result = ml.MaskingEvaluation().EvaluateFeatureRemoval(Load(ml, Rows(network, RowCount)), Options(network));

        Assert.AreEqual(0.5, result.CleanAccuracy, "half the labels were set to the clean prediction");
        Assert.AreEqual(RowCount, result.RowCount);
        Assert.AreEqual(16.0, result.MeanSegmentCount, "16×16 images in 4×4 patches");
        Assert.AreEqual(Enum.GetValues<MaskingMethod>().Length, result.Curves.Count);
        foreach (var curve in result.Curves)
        {
            var start = curve.At(0);
            Assert.AreEqual(result.CleanAccuracy, start.Accuracy, $"{curve.Method} at d = 0");
            Assert.AreEqual(1.0, start.Unchanged, $"{curve.Method} at d = 0");
            Assert.AreEqual(0.0, start.PixelsRemoved);
            Assert.AreEqual(11, curve.Points.Count);
        }
    }

    [TestMethod]
    public void EverythingRemovedUnderLayerMaskingGivesTheEmptyInputPrediction()
    {
        var ml = new MLContext(seed: 0);
        var network = Network();
        var rows = Rows(network, RowCount);
        var result = ml.MaskingEvaluation().EvaluateFeatureRemoval(Load(ml, rows), Options(network, MaskingMethod.LayerMasking, MaskingMethod.Grey));

        // With nothing kept the global pool is zero, so the logits are the classifier's bias.
        int empty;
        using (var bias = network.named_parameters().Single(p => p.name == "fc.bias").parameter.argmax())
            empty = (int)bias.item<long>();
        var clean = CleanPredictions(network, rows);
        var end = result.Curve(MaskingMethod.LayerMasking).At(1);
        Assert.AreEqual(1.0, end.PixelsRemoved);
        Assert.AreEqual(rows.Count(r => r.Label == empty) / (double)RowCount, end.Accuracy, 1e-12);
        Assert.AreEqual(clean.Count(c => c == empty) / (double)RowCount, end.Unchanged, 1e-12);
        Assert.AreEqual(0.0, end.ClassEntropy, "one class for every image");
    }

    [TestMethod]
    public void ResultsDependOnTheSeedAndNotOnTheBatchSize()
    {
        var ml = new MLContext(seed: 0);
        var network = Network();
        var data = Load(ml, Rows(network, RowCount));
        var methods = new[] { MaskingMethod.LayerMasking, MaskingMethod.Black };
        FeatureRemovalOptions With(int batch, int seed)
        {
            var o = Options(network, methods);
            o.BatchSize = batch;
            o.Seed = seed;
            o.Repeats = 2;
            return o;
        }
        var evaluation = ml.MaskingEvaluation();
        var a = evaluation.EvaluateFeatureRemoval(data, With(5, 3));
        var b = evaluation.EvaluateFeatureRemoval(data, With(12, 3));
        var c = evaluation.EvaluateFeatureRemoval(data, With(5, 4));

        // Each image draws its masks from its row's seed, so batches of 5 and of 12 remove the same pixels. The
        // network's arithmetic is not the same in both (other batch shapes, other kernels), so a prediction on a
        // near-tie may flip: allow one flipped prediction at most, in the whole table.
        double onePrediction = 1.0 / (RowCount * 2);
        var differing = PointsOf(a).Zip(PointsOf(b)).Where(p => !Same(p.First.Point, p.Second.Point)).ToList();
        Assert.IsLessThanOrEqualTo(1, differing.Count,
            $"batch size 12 changed {differing.Count} points; only a near-tie flipping one prediction may");
        foreach (var ((method, x), (_, y)) in differing)
        {
            Assert.AreEqual(x.PixelsRemoved, y.PixelsRemoved, $"{method} at d = {x.Fraction}: the same masks");
            Assert.AreEqual(x.Accuracy, y.Accuracy, onePrediction + 1e-12, $"{method} at d = {x.Fraction}: at most one flip");
            Assert.AreEqual(x.Unchanged, y.Unchanged, onePrediction + 1e-12, $"{method} at d = {x.Fraction}: at most one flip");
        }
        int moved = PointsOf(a).Zip(PointsOf(c)).Count(p => !Same(p.First.Point, p.Second.Point));
        Assert.IsGreaterThan(3, moved, $"another seed draws other masks, moving more points than a near-tie could ({moved})");
    }

    [TestMethod]
    public void TheNoiseBaselineGivesTheSameResultsInBatchesOfOneAndOfFive()
    {
        var ml = new MLContext(seed: 0);
        var network = Network();
        var data = Load(ml, Rows(network, RowCount));
        FeatureRemovalOptions With(int batch, int seed)
        {
            var o = Options(network, MaskingMethod.Noise);
            o.BatchSize = batch;
            o.Seed = seed;
            return o;
        }
        var evaluation = ml.MaskingEvaluation();
        var ones = evaluation.EvaluateFeatureRemoval(data, With(1, 3));
        var fives = evaluation.EvaluateFeatureRemoval(data, With(5, 3));

        // A row's noise is drawn from its row (identical draws whatever the batch); the network's arithmetic differs
        // between batch shapes, so a prediction on a near-tie may flip: one flipped prediction at most, in the whole curve.
        double onePrediction = 1.0 / RowCount;
        var differing = PointsOf(ones).Zip(PointsOf(fives)).Where(p => !Same(p.First.Point, p.Second.Point)).ToList();
        Assert.IsLessThanOrEqualTo(1, differing.Count, $"batch size 5 changed {differing.Count} points of the noise baseline's curve");
        foreach (var ((_, x), (_, y)) in differing)
        {
            Assert.AreEqual(x.Accuracy, y.Accuracy, onePrediction + 1e-12, $"d = {x.Fraction}: at most one flip");
            Assert.AreEqual(x.Unchanged, y.Unchanged, onePrediction + 1e-12, $"d = {x.Fraction}: at most one flip");
        }
        int moved = PointsOf(ones).Zip(PointsOf(evaluation.EvaluateFeatureRemoval(data, With(1, 4)))).Count(p => !Same(p.First.Point, p.Second.Point));
        Assert.IsGreaterThan(1, moved, $"another seed draws other masks and noise, moving more points than a near-tie could ({moved})");
    }

    private static IEnumerable<(MaskingMethod Method, FeatureRemovalPoint Point)> PointsOf(FeatureRemovalResult result) =>
        result.Curves.SelectMany(c => c.Points.Select(p => (c.Method, p)));

    private static bool Same(FeatureRemovalPoint x, FeatureRemovalPoint y) =>
        (x.Fraction, x.PixelsRemoved, x.Accuracy, x.AccuracyStandardError, x.Unchanged, x.UnchangedStandardError, x.ClassEntropy)
            .Equals((y.Fraction, y.PixelsRemoved, y.Accuracy, y.AccuracyStandardError, y.Unchanged, y.UnchangedStandardError, y.ClassEntropy));

    [TestMethod]
    public void StandardErrorsFollowTheBinomialFormulaWithOneRepeat()
    {
        var ml = new MLContext(seed: 0);
        var network = Network();
        var result = ml.MaskingEvaluation().EvaluateFeatureRemoval(Load(ml, Rows(network, RowCount)), Options(network, MaskingMethod.LayerMasking));
        foreach (var p in result.Curves[0].Points)
        {
            double expected = Math.Sqrt(p.Accuracy * (1 - p.Accuracy) / (RowCount - 1));
            Assert.AreEqual(expected, p.AccuracyStandardError, 1e-12, $"d = {p.Fraction}");
        }
    }

    [TestMethod]
    public void SuperpixelsAndUserSegmentsAreRemovedWhole()
    {
        var ml = new MLContext(seed: 0);
        var network = Network();
        var data = Load(ml, Rows(network, RowCount));
        var options = Options(network, MaskingMethod.LayerMasking);
        options.Segmentation = new SegmentationOptions { Kind = SegmentationKind.Column, ColumnName = nameof(Row.Segments) };
        options.Fractions = [0, 0.25, 0.5, 1];
        var quadrants = ml.MaskingEvaluation().EvaluateFeatureRemoval(data, options);
        Assert.AreEqual(4.0, quadrants.MeanSegmentCount);
        CollectionAssert.AreEqual(new[] { 0, 0.25, 0.5, 1 }, quadrants.Curves[0].Points.Select(p => p.PixelsRemoved).ToArray(),
            "one quadrant is exactly a quarter of the pixels");

        options.Segmentation = new SegmentationOptions { Kind = SegmentationKind.Superpixels, SuperpixelCount = 16 };
        var superpixels = ml.MaskingEvaluation().EvaluateFeatureRemoval(data, options);
        Assert.IsTrue(superpixels.MeanSegmentCount is >= 8 and <= 32, $"about 16 superpixels, got {superpixels.MeanSegmentCount}");
        Assert.AreEqual(0.0, superpixels.Curves[0].At(0).PixelsRemoved);
        Assert.AreEqual(1.0, superpixels.Curves[0].At(1).PixelsRemoved);
    }

    [TestMethod]
    public void AttributionOrdersRemoveTheMostOrLeastRelevantSegmentsFirst()
    {
        var ml = new MLContext(seed: 0);
        var network = Network();
        var rows = Rows(network, 4);
        // Relevance grows left to right, so removing the most relevant half keeps the left half of the image: the
        // result must equal layer masking with exactly that mask.
        var options = Options(network, MaskingMethod.LayerMasking);
        options.Fractions = [0.5];
        options.Order = RemovalOrder.MostRelevantFirst;
        options.AttributionColumnName = nameof(Row.Attribution);
        var mostFirst = ml.MaskingEvaluation().EvaluateFeatureRemoval(Load(ml, rows), options);
        options.Order = RemovalOrder.LeastRelevantFirst;
        var leastFirst = ml.MaskingEvaluation().EvaluateFeatureRemoval(Load(ml, rows), options);

        double Expected(bool keepLeft)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad(); // the inference path, as the evaluator runs it
            var keep = zeros(rows.Length, Side, Side);
            if (keepLeft) keep[.., .., ..(Side / 2)] = 1; else keep[.., .., (Side / 2)..] = 1;
            using var classifier = new MaskedClassifier(network, MaskingMethod.LayerMasking, Normalization);
            var images = tensor(rows.SelectMany(r => r.Image).ToArray(), [rows.Length, Channels, Side, Side]);
            var predicted = classifier.Forward(images, keep).Logits.argmax(1).data<long>().ToArray();
            return predicted.Where((p, i) => p == rows[i].Label).Count() / (double)rows.Length;
        }
        // The four rows make one batch in the evaluator as here, through the same classifier: the same computation.
        Assert.AreEqual(Expected(keepLeft: true), mostFirst.Curves[0].Points[0].Accuracy);
        Assert.AreEqual(Expected(keepLeft: false), leastFirst.Curves[0].Points[0].Accuracy);
        Assert.AreEqual(0.5, mostFirst.Curves[0].Points[0].PixelsRemoved);
    }

    [TestMethod]
    public void ProgressAndTimeLeftReachTheMLContextLog()
    {
        var ml = new MLContext(seed: 0);
        var messages = new List<string>();
        ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        var network = Network();
        ml.MaskingEvaluation().EvaluateFeatureRemoval(Load(ml, Rows(network, RowCount)), Options(network, MaskingMethod.LayerMasking));
        Assert.IsTrue(messages.Any(m => m.Contains("Feature removal: 12 images;")), string.Join("\n", messages));
        Assert.IsTrue(messages.Any(m => m.Contains("Feature removal: 12 images in")), string.Join("\n", messages));
    }

    [TestMethod]
    public void CsvAndSvgHoldEveryMethodAndFraction()
    {
        var ml = new MLContext(seed: 0);
        var network = Network();
        var result = ml.MaskingEvaluation().EvaluateFeatureRemoval(Load(ml, Rows(network, 6)), Options(network, MaskingMethod.LayerMasking, MaskingMethod.Grey, MaskingMethod.Blur));

        var lines = result.ToCsv().TrimEnd('\n').Split('\n');
        Assert.AreEqual("method,fraction,pixels_removed,accuracy,accuracy_se,unchanged,unchanged_se,class_entropy", lines[0]);
        Assert.AreEqual(1 + 3 * 11, lines.Length);
        Assert.IsTrue(lines[1].StartsWith("LayerMasking,0,0,0.5,"), lines[1]);

        foreach (var metric in Enum.GetValues<FeatureRemovalMetric>())
        {
            var svg = XDocument.Parse(result.ToSvg(metric));
            XNamespace ns = "http://www.w3.org/2000/svg";
            var polylines = svg.Descendants(ns + "polyline").ToList();
            Assert.AreEqual(3, polylines.Count, $"{metric}: one line per method");
            Assert.IsTrue(polylines.All(p => p.Attribute("points")!.Value.Split(' ').Length == 11), $"{metric}: one vertex per fraction");
            var legend = svg.Descendants(ns + "text").Select(t => t.Value).ToList();
            CollectionAssert.IsSubsetOf(new[] { "LayerMasking", "Grey", "Blur" }, legend);
            Assert.AreEqual(metric == FeatureRemovalMetric.Accuracy, legend.Contains("chance (1/5)"), $"{metric}: chance line only on accuracy");
        }
    }

    [TestMethod]
    public void ATrainedClassifierIsEvaluatedWithItsOwnNormalizationAndLayout()
    {
        var ml = new MLContext(seed: 0);
        var data = Load(ml, Rows(Network(), 16));
        var classifier = ml.MulticlassClassification.Trainers.ResNet(new ResNetTrainer.Options
        {
            Architecture = new ResNetArchitecture { Layers = [1, 1], BaseWidth = 8, SmallImageStem = true },
            Epochs = 1,
            BatchSize = 8,
        }).Fit(data);
        var fromClassifier = Options(Network(), MaskingMethod.LayerMasking, MaskingMethod.Grey);
        fromClassifier.Classifier = classifier.Classifier;
        var fromNetwork = Options(classifier.ResNet, MaskingMethod.LayerMasking, MaskingMethod.Grey);
        fromNetwork.Classifier = ImageClassifier.FromModule(classifier.ResNet, classifier.Normalization, classifier.ImageShape);

        Assert.AreEqual(ml.MaskingEvaluation().EvaluateFeatureRemoval(data, fromNetwork).ToCsv(),
            ml.MaskingEvaluation().EvaluateFeatureRemoval(data, fromClassifier).ToCsv());
        fromClassifier.Classifier = null;
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => ml.MaskingEvaluation().EvaluateFeatureRemoval(data, fromClassifier)).Message,
            "Set FeatureRemovalOptions.Classifier");
    }

    [TestMethod]
    public void FractionsOutsideZeroToOneAreRejected()
    {
        var ml = new MLContext(seed: 0);
        var network = Network();
        var data = Load(ml, Rows(network, 2));
        foreach (double bad in new[] { -0.1, 1.5, double.NaN })
        {
            var options = Options(network);
            options.Fractions = [0, bad];
            var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MaskingEvaluation().EvaluateFeatureRemoval(data, options));
            StringAssert.Contains(e.Message, "[0, 1]");
        }
    }

    [TestMethod]
    public void MissingAndMisshapenColumnsAreNamed()
    {
        var ml = new MLContext(seed: 0);
        var network = Network();
        var data = Load(ml, Rows(network, 2));
        var evaluation = ml.MaskingEvaluation();

        var noImage = Options(network);
        noImage.ImageColumnName = "Pixels";
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => evaluation.EvaluateFeatureRemoval(data, noImage)).Message,
            "Could not find input column 'Pixels'");

        var noLabel = Options(network);
        noLabel.LabelColumnName = "Class";
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => evaluation.EvaluateFeatureRemoval(data, noLabel)).Message,
            "Could not find input column 'Class'");

        var labelNotKey = Options(network);
        labelNotKey.LabelColumnName = nameof(Row.ObjectMask);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => evaluation.EvaluateFeatureRemoval(data, labelNotKey)).Message,
            "Schema mismatch for input column 'ObjectMask': expected Key<UInt32> with 5 values");

        var noSegments = Options(network);
        noSegments.Segmentation = new SegmentationOptions { Kind = SegmentationKind.Column, ColumnName = "Superpixels" };
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => evaluation.EvaluateFeatureRemoval(data, noSegments)).Message,
            "Could not find input column 'Superpixels'");

        var noAttribution = Options(network);
        noAttribution.Order = RemovalOrder.MostRelevantFirst;
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => evaluation.EvaluateFeatureRemoval(data, noAttribution)).Message,
            "AttributionColumnName");
    }

    [TestMethod]
    public void SegmentMapsOfTheWrongSizeAreRejected()
    {
        var ml = new MLContext(seed: 0);
        var network = Network();
        var rows = Rows(network, 2).Select(r => new SmallSegmentsRow { Image = r.Image, Label = r.Label, Segments = new float[64] });
        var options = Options(network);
        options.Segmentation = new SegmentationOptions { Kind = SegmentationKind.Column, ColumnName = "Segments" };
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MaskingEvaluation().EvaluateFeatureRemoval(ml.Data.LoadFromEnumerable(rows), options));
        StringAssert.Contains(e.Message, "Schema mismatch for input column 'Segments': expected Vector<Single, 16, 16> (one value per pixel, row-major), 256 values, got Vector<Single, 64>");
    }

    [TestMethod]
    public void InvalidSegmentIdsNameTheColumnAndRow()
    {
        var ml = new MLContext(seed: 0);
        var network = Network();
        var rows = Rows(network, 3);
        rows[2].Segments[17] = 2.5f;
        var options = Options(network);
        options.Segmentation = new SegmentationOptions { Kind = SegmentationKind.Column, ColumnName = nameof(Row.Segments) };
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => ml.MaskingEvaluation().EvaluateFeatureRemoval(Load(ml, rows), options));
        StringAssert.Contains(e.Message, "Column 'Segments', row 2");
        StringAssert.Contains(e.Message, "2.5");
    }

    [TestMethod]
    public void ImagesThatAreNotSquareNeedTheirSize()
    {
        var ml = new MLContext(seed: 0);
        var network = Network();
        var random = new Random(1);
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 3).Select(i => new WideRow
        {
            Image = Enumerable.Range(0, Channels * 8 * 16).Select(_ => random.NextSingle()).ToArray(),
            Label = (uint)(i % Classes),
        }));
        var options = Options(network, MaskingMethod.LayerMasking);
        var wrongShape = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MaskingEvaluation().EvaluateFeatureRemoval(data, options));
        Assert.AreEqual("inputSchema", wrongShape.ParamName);
        StringAssert.Contains(wrongShape.Message,
            "Schema mismatch for input column 'Image': expected Vector<Single, 3, 16, 16> (planar channels × height × width), 768 values, got Vector<Single, 384>");

        options.Classifier = ImageClassifier.FromModule(network, Normalization, new ImageShape(Channels, 8, 8));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MaskingEvaluation().EvaluateFeatureRemoval(data, options)).Message,
            "expected Vector<Single, 3, 8, 8> (planar channels × height × width), 192 values, got Vector<Single, 384>");

        options.Classifier = ImageClassifier.FromModule(network, Normalization, new ImageShape(Channels, 8, 16));
        var result = ml.MaskingEvaluation().EvaluateFeatureRemoval(data, options);
        Assert.AreEqual(8.0, result.MeanSegmentCount, "8×16 pixels in 4×4 patches");
    }

    private sealed class WideRow
    {
        [Microsoft.ML.Data.VectorType(Channels * 8 * 16)]
        public float[] Image { get; set; } = [];

        [Microsoft.ML.Data.KeyType(Classes)]
        public uint Label { get; set; }
    }

    private sealed class SmallSegmentsRow
    {
        [Microsoft.ML.Data.VectorType(Channels * Pixels)]
        public float[] Image { get; set; } = [];

        [Microsoft.ML.Data.KeyType(Classes)]
        public uint Label { get; set; }

        [Microsoft.ML.Data.VectorType(64)]
        public float[] Segments { get; set; } = [];
    }
}
