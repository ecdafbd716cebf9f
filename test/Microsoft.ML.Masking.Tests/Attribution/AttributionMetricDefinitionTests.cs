using Microsoft.ML.Data;
using Microsoft.ML.Masking.Attribution.Metrics;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.LayerMasking;
using static Microsoft.ML.Masking.Tests.Attribution.AttributionTestData;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Attribution;

/// <summary>
/// Faithfulness correlation, infidelity, linearity of removal and consistency C(E) against closed forms on a linear
/// network f(x) = Wx + b over one-channel 6×6 images, where removal by black paint (pixel 0) takes exactly Σ W·x over
/// the removed pixels off each logit.
/// </summary>
[TestClass]
public sealed class AttributionMetricDefinitionTests
{
    private const int Side = 6, Pixels = Side * Side, Classes = 3;

    public sealed class Row
    {
        [VectorType(Pixels)]
        public float[] Image { get; set; } = [];

        [KeyType(Classes)]
        public uint Label { get; set; }

        [VectorType(Pixels)]
        public float[] Attribution { get; set; } = [];
    }

    private static (ImageClassifier Classifier, float[,] W, float[] B) Linear()
    {
        var network = nn.Sequential(("flat", nn.Flatten()), ("fc", nn.Linear(Pixels, Classes)));
        using (no_grad())
            foreach (var p in network.parameters())
                p.normal_(0, 1, generator: new Generator(3));
        network.eval();
        var fc = (TorchSharp.Modules.Linear)network.named_children().First(c => c.name == "fc").module;
        var weights = fc.weight!.data<float>().ToArray();
        var w = new float[Classes, Pixels];
        for (int k = 0; k < Classes; k++)
            for (int p = 0; p < Pixels; p++)
                w[k, p] = weights[k * Pixels + p];
        var classifier = ImageClassifier.FromModule(network, new ChannelNormalization([0f], [1f]), new Masking.Data.ImageShape(1, Side, Side));
        return (classifier, w, fc.bias!.data<float>().ToArray());
    }

    private static double[] Logits(float[,] w, float[] b, float[] x) =>
        Enumerable.Range(0, Classes).Select(k => b[k] + Enumerable.Range(0, Pixels).Sum(p => (double)w[k, p] * x[p])).ToArray();

    private static int ArgMax(double[] v) => Array.IndexOf(v, v.Max());

    /// <summary>Rows whose attribution is <paramref name="attribution"/>(W row of the predicted class, image).</summary>
    private static IDataView Data(MLContext ml, float[,] w, float[] b, int count, Func<int, float[], float[], float[]> attribution)
    {
        var rows = Enumerable.Range(0, count).Select(i =>
        {
            var x = AttributionTestData.Pixels(Pixels, 70 + i);
            int t = ArgMax(Logits(w, b, x));
            var wt = Enumerable.Range(0, Pixels).Select(p => w[t, p]).ToArray();
            return new Row { Image = x, Label = (uint)t, Attribution = attribution(i, wt, x) };
        }).ToArray();
        return ml.Data.LoadFromEnumerable(rows);
    }

    private static AttributionEvaluationOptions Options(ImageClassifier classifier) => new()
    {
        Classifier = classifier, Removals = [MaskingMethod.Black], Road = false, TopK = [1], Fractions = [0, 0.5, 1],
        Segmentation = new() { PatchSize = 2 }, TopKSegmentation = new() { PatchSize = 2 }, BatchSize = 16,
    };

    [TestMethod]
    public void FaithfulnessCorrelationIsOneForWeightTimesInputAndMinusOneForItsNegativeUnderBlackRemoval()
    {
        var ml = new MLContext(0);
        var (classifier, w, b) = Linear();
        var options = Options(classifier);
        options.FaithfulnessCorrelationRuns = 20;
        options.FaithfulnessCorrelationSubsetSize = 10;
        var exact = ml.AttributionEvaluation().Evaluate(Data(ml, w, b, 3, (_, wt, x) => wt.Zip(x, (a, v) => a * v).ToArray()), options);
        var negated = ml.AttributionEvaluation().Evaluate(Data(ml, w, b, 3, (_, wt, x) => wt.Zip(x, (a, v) => -a * v).ToArray()), options);
        var noise = ml.AttributionEvaluation().Evaluate(Data(ml, w, b, 3, (i, _, _) => AttributionTestData.Pixels(Pixels, 500 + i)), options);
        Assert.AreEqual(3, exact["Black"].FaithfulnessCorrelation!.Count);
        Assert.AreEqual(1.0, exact["Black"].FaithfulnessCorrelation!.Mean, 1e-5);
        Assert.AreEqual(-1.0, negated["Black"].FaithfulnessCorrelation!.Mean, 1e-5);
        Assert.IsLessThan(0.9, noise["Black"].FaithfulnessCorrelation!.Mean, "an attribution unrelated to the model does not correlate");
        Assert.IsNull(ml.AttributionEvaluation().Evaluate(Data(ml, w, b, 1, (_, wt, _) => wt), Options(classifier))["Black"].FaithfulnessCorrelation, "off by default");
        var tooMany = Options(classifier);
        tooMany.FaithfulnessCorrelationRuns = 5;
        tooMany.FaithfulnessCorrelationSubsetSize = Pixels;
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.AttributionEvaluation().Evaluate(Data(ml, w, b, 1, (_, wt, _) => wt), tooMany));
        Assert.AreEqual(nameof(AttributionEvaluationOptions.FaithfulnessCorrelationSubsetSize), e.ParamName);
    }

    [TestMethod]
    public void InfidelityIsZeroForTheGradientAndSigmaSquaredTimesTheWeightNormForTwiceIt()
    {
        var ml = new MLContext(0);
        var (classifier, w, b) = Linear();
        var options = Options(classifier);
        options.InfidelitySamples = 400;
        options.InfidelityNoise = 0.1;
        var gradient = ml.AttributionEvaluation().Evaluate(Data(ml, w, b, 2, (_, wt, _) => wt), options);
        Assert.IsLessThan(1e-8, gradient.Infidelity!.Max, "Iᵀ∇f = f(x) − f(x − I) for a linear f");
        var twice = Data(ml, w, b, 2, (_, wt, _) => wt.Select(v => 2 * v).ToArray());
        var doubled = ml.AttributionEvaluation().Evaluate(twice, options);
        // (2Wᵀ I − Wᵀ I)² = (Wᵀ I)², whose mean is σ²‖W‖² for I ~ N(0, σ²); 400 draws: relative error ~ √(2/400) ≈ 7 %.
        var rows = Masking.Tests.TestDoubles.TestData.Column<uint>(twice, "Label").ToArray();
        // Keys are 1-based.
        double expected = rows.Average(key => 0.01 * Enumerable.Range(0, Pixels).Sum(p => (double)w[key - 1, p] * w[key - 1, p]));
        Assert.AreEqual(expected, doubled.Infidelity!.Mean, 0.25 * expected);
        options.InfidelityNormalize = true;
        Assert.IsLessThan(1e-8, ml.AttributionEvaluation().Evaluate(twice, options).Infidelity!.Max, "normalised, only the direction counts");
    }

    [TestMethod]
    public void LinearityOfRemovalIsOneForALinearModelAndBelowOneForACnn()
    {
        var ml = new MLContext(0);
        var (classifier, w, b) = Linear();
        var options = Options(classifier);
        options.LinearitySamples = 48;
        options.Removals = [MaskingMethod.Black, MaskingMethod.Grey];
        var linear = ml.AttributionEvaluation().Evaluate(Data(ml, w, b, 2, (_, wt, _) => wt), options);
        Assert.AreEqual(1.0, linear["Black"].RemovalLinearity!.Mean, 1e-6);
        Assert.AreEqual(1.0, linear["Grey"].RemovalLinearity!.Mean, 1e-6);

        var shapes = ml.Data.LoadShapes(new Masking.Data.ShapesOptions { ImageSize = CnnSide, Count = 2, Seed = 3, Shapes = [Masking.Data.ShapeKind.Circle, Masking.Data.ShapeKind.Square, Masking.Data.ShapeKind.Triangle, Masking.Data.ShapeKind.Cross] });
        var data = ml.Transforms.CopyColumns("Attribution", "ObjectMask").Fit(shapes).Transform(shapes);
        var cnn = ml.AttributionEvaluation().Evaluate(data, new AttributionEvaluationOptions
        {
            Classifier = CnnClassifier(), Removals = [MaskingMethod.LayerMasking], Road = false, TopK = [1], Fractions = [0, 1],
            TopKSegmentation = new() { PatchSize = 8 }, LinearitySamples = 16,
        });
        Assert.IsLessThan(0.999, cnn["LayerMasking"].RemovalLinearity!.Mean, "a ReLU network is not additive in its segments");
    }

    [TestMethod]
    public void ConsistencyIsOneOverTheGapTimesTheKeptShareOfTheSmallestInsertionThatKeepsThePrediction()
    {
        var ml = new MLContext(0);
        var (classifier, w, b) = Linear();
        var options = Options(classifier);
        options.Fractions = Enumerable.Range(0, 10).Select(k => k / 9.0).ToArray();
        // One value per 2×2 patch (9 patches, no ties): patch j ranks by the seeded values below.
        var patchValues = AttributionTestData.Pixels(9, 11);
        float[] Map(int _, float[] __, float[] ___) => Enumerable.Range(0, Pixels).Select(p => patchValues[p / Side / 2 * 3 + p % Side / 2]).ToArray();
        var data = Data(ml, w, b, 4, Map);
        var result = ml.AttributionEvaluation().Evaluate(data, options)["Black"].Consistency;

        var ranking = Enumerable.Range(0, 9).OrderByDescending(j => patchValues[j]).ToArray();
        var images = Masking.Tests.TestDoubles.TestData.Vectors(data, "Image").ToArray();
        var expected = new List<double>();
        var kept = new List<double>();
        foreach (var x in images)
        {
            var clean = Softmax(Logits(w, b, x));
            for (int k = 1; k <= 9; k++)
            {
                var top = ranking.Take(k).ToHashSet();
                var e = x.Select((v, p) => top.Contains(p / Side / 2 * 3 + p % Side / 2) ? v : 0f).ToArray();
                var scores = Softmax(Logits(w, b, e));
                if (ArgMax(scores) != ArgMax(clean)) continue;
                double gap = scores.Zip(clean, (s, c) => Math.Abs(s - c)).Sum();
                expected.Add(1 / (Math.Max(gap, ConsistencyResult.GapFloor) * (4.0 * k / Pixels)));
                kept.Add(4.0 * k / Pixels);
                break;
            }
        }
        Assert.AreEqual(4, result.Consistency.Count);
        Assert.AreEqual(kept.Average(), result.KeptFraction.Mean, 1e-12);
        Assert.AreEqual(expected.Average(), result.Consistency.Mean, 1e-4 * expected.Average());
        Assert.IsTrue(kept.Any(v => v < 1), "some row keeps its prediction before the whole image is back");
    }

    [TestMethod]
    public void MaxSensitivityIsZeroForAConstantGradientAndBoundedByTheNoiseForInputTimesGradient()
    {
        var ml = new MLContext(0);
        var (classifier, w, b) = Linear();
        var data = Data(ml, w, b, 3, (_, wt, _) => wt);
        var saliency = ml.AttributionEvaluation().EvaluateMaxSensitivity(data, new Masking.Attribution.SaliencyOptions { Classifier = classifier }, samples: 8);
        Assert.AreEqual(3, saliency.MaxSensitivity.Count);
        Assert.AreEqual(0.0, saliency.MaxSensitivity.Max, 1e-6, "a linear model's gradient does not move");

        const double radius = 0.1;
        Masking.Attribution.InputXGradientOptions Options(int batch) => new() { Classifier = classifier, BatchSize = batch };
        var one = ml.AttributionEvaluation().EvaluateMaxSensitivity(data, Options(1), samples: 32, radius: radius, seed: 4);
        var three = ml.AttributionEvaluation().EvaluateMaxSensitivity(data, Options(3), samples: 32, radius: radius, seed: 4);
        Assert.AreEqual(one.MaxSensitivity.Mean, three.MaxSensitivity.Mean, 1e-9, "the noise is drawn per row, not per batch");
        // Φ(x + δ) − Φ(x) = δ ⊙ w with |δ| ≤ r, so the ratio is at most r‖w‖ / ‖x ⊙ w‖; its typical size is r‖w‖ / (√3 ‖x ⊙ w‖).
        var images = Masking.Tests.TestDoubles.TestData.Vectors(data, "Image").ToArray();
        var labels = Masking.Tests.TestDoubles.TestData.Column<uint>(data, "Label").ToArray();
        double bound = 0, typical = 0;
        for (int i = 0; i < images.Length; i++)
        {
            int t = (int)labels[i] - 1;
            double wNorm = Math.Sqrt(Enumerable.Range(0, Pixels).Sum(p => (double)w[t, p] * w[t, p]));
            double xwNorm = Math.Sqrt(Enumerable.Range(0, Pixels).Sum(p => Math.Pow(w[t, p] * images[i][p], 2)));
            bound = Math.Max(bound, radius * wNorm / xwNorm);
            typical += radius * wNorm / (Math.Sqrt(3) * xwNorm) / images.Length;
        }
        Assert.IsLessThanOrEqualTo(bound * (1 + 1e-5), one.MaxSensitivity.Max);
        Assert.IsGreaterThan(0.7 * typical, one.MaxSensitivity.Mean);
    }

    [TestMethod]
    public void MaxSensitivityWithFixedSegmentsLeavesOnlyTheInputNoiseForLimeOnSuperpixels()
    {
        var ml = new MLContext(0);
        var data = CnnData(ml, 3);
        var lime = new Masking.Attribution.LimeOptions
        {
            Classifier = CnnClassifier(), Samples = 24, Output = Masking.Attribution.Engine.ScoreKind.Logit,
            Segmentation = new Masking.Core.Segmentation.SegmentationOptions { Kind = Masking.Core.Segmentation.SegmentationKind.Superpixels, SuperpixelCount = 6 },
        };
        // Noise far below a pixel step: with fixed segments and draws the map barely moves; re-segmenting the copies and
        // drawing new sample matrices for them moves it by about as much as two LIME runs differ.
        var regular = ml.AttributionEvaluation().EvaluateMaxSensitivity(data, lime, samples: 3, radius: 1e-4, seed: 2);
        var fixedSegments = ml.AttributionEvaluation().EvaluateMaxSensitivity(data, lime, samples: 3, radius: 1e-4, seed: 2, fixedSegments: true);
        Assert.IsTrue(fixedSegments.FixedSegments);
        Assert.IsFalse(regular.FixedSegments);
        Assert.IsLessThan(0.01, fixedSegments.MaxSensitivity.Max, "fixed segments and draws: only 1e-4 of noise changes");
        Assert.IsGreaterThan(0.1, regular.MaxSensitivity.Mean, "new segments and new samples change the map");
    }

    private static double[] Softmax(double[] logits)
    {
        double max = logits.Max();
        var e = logits.Select(v => Math.Exp(v - max)).ToArray();
        return e.Select(v => v / e.Sum()).ToArray();
    }
}
