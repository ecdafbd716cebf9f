using Microsoft.ML.Masking.Core.Segmentation;
using Microsoft.ML.Masking.Attribution;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Evaluation;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.Tests.TestDoubles;
using static Microsoft.ML.Masking.Tests.Attribution.AttributionTestData;

namespace Microsoft.ML.Masking.Tests.Attribution;

/// <summary>The perturbation methods on linear ML.NET models (exact answers) and on a layer-masked CNN (determinism).</summary>
[TestClass]
public sealed class PerturbationAttributionTests
{
    private const int Pixels = LinearSide * LinearSide;
    private static readonly Masking.Data.ImageShape Shape = new(LinearChannels, LinearSide, LinearSide);

    /// <summary>Σ over channels of W[target, c, p] · (x[c, p] − baseline), per pixel.</summary>
    private static float[] LinearContribution(float[,] w, float[] image, int target, float baseline) =>
        Enumerable.Range(0, Pixels).Select(p => Enumerable.Range(0, LinearChannels).Sum(c => w[target, c * Pixels + p] * (image[c * Pixels + p] - baseline))).ToArray();

    [TestMethod]
    public void OcclusionWithAOnePixelWindowOnALinearModelRecoversWeightTimesInputMinusBaseline()
    {
        var ml = new MLContext(0);
        var data = LinearData(ml, 3);
        var w = LinearWeights();
        var model = ml.Transforms.Attribution().Occlusion(new OcclusionOptions
        {
            ImageShape = Shape, Scorer = LinearScorer(ml, w, data), Removal = MaskingMethod.Black, Window = 1, Target = AttributionTarget.FixedClass(1), InternalBatchSize = 10,
        }).Fit(data);
        var maps = Vectors(model.Transform(data), "Attribution");
        var images = Vectors(data, "Image");
        var expected = images.Select(x => LinearContribution(w, x, 1, 0f)).ToArray();
        Assert.IsLessThan(1e-4, RelativeDifference(maps, expected));
    }

    [TestMethod]
    public void KernelShapOnALinearModelRecoversWeightTimesInputMinusBaseline()
    {
        var ml = new MLContext(0);
        var data = LinearData(ml, 2);
        var w = LinearWeights();
        var model = ml.Transforms.Attribution().KernelShap(new KernelShapOptions
        {
            ImageShape = Shape, Scorer = LinearScorer(ml, w, data), Removal = MaskingMethod.Grey, Samples = 200, Segmentation = new SegmentationOptions { PatchSize = 2 },
            Target = AttributionTarget.FixedClass(2),
        }).Fit(data);
        var maps = Vectors(model.Transform(data), "Attribution");
        var images = Vectors(data, "Image");
        var patches = PatchIds(LinearSide, 2);
        for (int i = 0; i < images.Length; i++)
        {
            // Grey is the fill normalisation's mean, 0.5 by default; a patch's Shapley value is its pixels' total contribution.
            var contribution = LinearContribution(w, images[i], 2, 0.5f);
            var perPatch = Enumerable.Range(0, 9).Select(s => Enumerable.Range(0, Pixels).Where(p => patches[p] == s).Sum(p => contribution[p])).ToArray();
            var expected = Enumerable.Range(0, Pixels).Select(p => perPatch[(int)patches[p]]).ToArray();
            Assert.IsLessThan(1e-3, RelativeDifference([maps[i]], [expected]), $"row {i}");
            Assert.AreEqual(contribution.Sum(), perPatch.Sum(), 1e-3, "efficiency: the values add up to f(x) − f(baseline)");
        }
    }

    [TestMethod]
    public void LimeOnAModelThatReadsOneSegmentPutsThatSegmentFirst()
    {
        var ml = new MLContext(0);
        var data = LinearData(ml, 3);
        var segments = PatchIds(LinearSide, 2);
        const int relevant = 4;
        var w = new float[LinearClasses, LinearSize];
        for (int c = 0; c < LinearChannels; c++)
            for (int p = 0; p < Pixels; p++)
                if (segments[p] == relevant) w[0, c * Pixels + p] = 1f;
        var model = ml.Transforms.Attribution().Lime(new LimeOptions
        {
            ImageShape = Shape, Scorer = LinearScorer(ml, w, data), Removal = MaskingMethod.Black, Samples = 64, Target = AttributionTarget.FixedClass(0),
            Segmentation = new SegmentationOptions { Kind = SegmentationKind.Column, ColumnName = "Segments" },
        }).Fit(data);
        var output = model.Transform(data);
        var maps = Vectors(output, "Attribution");
        foreach (var map in maps)
        {
            var bySegment = Enumerable.Range(0, 9).Select(s => map[Array.IndexOf(segments, (float)s)]).ToArray();
            Assert.AreEqual(relevant, Array.IndexOf(bySegment, bySegment.Max()));
        }
        foreach (float r2 in Floats(output, "SurrogateR2"))
            Assert.IsGreaterThan(0.9f, r2, "a linear model in one segment is nearly linear in the indicators");
    }

    private static IDataView Explain(MLContext ml, IDataView data, PerturbationAttributionOptions options) =>
        options switch
        {
            RiseOptions r => ml.Transforms.Attribution().Rise(r),
            LimeOptions l => ml.Transforms.Attribution().Lime(l),
            KernelShapOptions k => ml.Transforms.Attribution().KernelShap(k),
            OcclusionOptions o => ml.Transforms.Attribution().Occlusion(o),
            _ => throw new ArgumentException("unexpected options"),
        } is var estimator ? estimator.Fit(data).Transform(data) : null!;

    [TestMethod]
    public void TheSameSeedGivesTheSameRiseLimeAndKernelShapForAnyBatchSize()
    {
        var ml = new MLContext(0);
        var data = CnnData(ml, 3);
        var network = Cnn();
        foreach (var make in new Func<int, int, PerturbationAttributionOptions>[]
        {
            (rows, passes) => new RiseOptions { Classifier = CnnClassifier(network), Removal = MaskingMethod.Grey, MaskCount = 12, CellSize = 4, Seed = 3, BatchSize = rows, InternalBatchSize = passes },
            (rows, passes) => new LimeOptions { Classifier = CnnClassifier(network), Samples = 12, Seed = 3, BatchSize = rows, InternalBatchSize = passes },
            (rows, passes) => new KernelShapOptions { Classifier = CnnClassifier(network), Removal = MaskingMethod.Grey, Samples = 12, Seed = 3, BatchSize = rows, InternalBatchSize = passes },
            // Masks shared by the rows, scored mask-major with the last pass's mask work reused (layer masking).
            (rows, passes) => new LimeOptions { Classifier = CnnClassifier(network), Samples = 12, Seed = 3, BatchSize = rows, InternalBatchSize = passes, ShareSamplesAcrossRows = true },
            (rows, passes) => new OcclusionOptions { Classifier = CnnClassifier(network), Window = 4, Stride = 2, BatchSize = rows, InternalBatchSize = passes },
        })
        {
            var small = Vectors(Explain(ml, data, make(1, 5)), "Attribution");
            var large = Vectors(Explain(ml, data, make(3, 64)), "Attribution");
            var name = make(1, 1) is LimeOptions { ShareSamplesAcrossRows: true } ? "shared LIME" : make(1, 1).GetType().Name;
            Assert.IsLessThan(1e-4, RelativeDifference(small, large), $"{name}: batch sizes 1/5 and 4/64");
            if (name != nameof(LimeOptions)) continue;
            var otherSeed = make(3, 64);
            otherSeed.Seed = 4;
            Assert.IsGreaterThan(1e-3, RelativeDifference(Vectors(Explain(ml, data, otherSeed), "Attribution"), large), $"{name}: the seed matters");
        }
    }

    /// <summary>Scores = the mean kept pixel value per channel (a function of the masks and images only), recording each pass's keep-masks.</summary>
    private sealed class RecordingScorer : Masking.Attribution.Engine.IPerturbationScorer
    {
        public List<float[]> Passes { get; } = [];
        public int ClassCount => 3;
        public TorchSharp.torch.Device Device => TorchSharp.torch.CPU;
        public TorchSharp.torch.Tensor Scores(TorchSharp.torch.Tensor pixels, TorchSharp.torch.Tensor keep, Masking.Attribution.Engine.PerturbationNoise noise)
        {
            Passes.Add(keep.data<float>().ToArray());
            return (pixels * keep.unsqueeze(1)).mean([2, 3]);
        }
    }

    [TestMethod]
    public void SharedLimeSamplesScoreEveryRowUnderTheSameMasksOneRowAfterAnother()
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        var pixels = TorchSharp.torch.rand(3, 3, 8, 8, generator: new TorchSharp.torch.Generator(2));
        var map = SegmentMap.Patches(8, 8, 4);
        var batch = new Masking.Attribution.Engine.AttributionBatch(pixels, [0L, 1L, 2L], [11L, 12L, 13L], [map, map, map]);
        List<float[]> Passes(bool shared)
        {
            var scorer = new RecordingScorer();
            new Masking.Attribution.Engine.Lime(scorer, samples: 8, internalBatchSize: 4, seed: 3, shareSamplesAcrossRows: shared).Attribute(batch);
            return scorer.Passes;
        }
        var mixed = Passes(shared: false);
        var shared = Passes(shared: true);
        Assert.HasCount(6, shared, "8 samples × 3 rows in passes of 4");
        // Mask-major: masks 0–3 for rows 0, 1, 2, then masks 4–7 for each, so consecutive passes repeat the masks.
        for (int pass = 0; pass < 6; pass++)
            CollectionAssert.AreEqual(shared[pass / 3 * 3], shared[pass], $"pass {pass} holds the masks of pass {pass / 3 * 3}");
        CollectionAssert.AreNotEqual(shared[0], shared[3], "the second chunk of masks");
        // One matrix per row (the default): the rows' masks differ.
        CollectionAssert.AreNotEqual(mixed[0], mixed[2], "row 0's first masks against row 1's");
    }

    [TestMethod]
    public void NoiseFillAndRoadDrawPerRowSoBatchSizes1And5GiveTheSameMaps()
    {
        var ml = new MLContext(0);
        var data = CnnData(ml, 5);
        var network = Cnn();
        LimeOptions Lime(int rows, int passes, int seed = 3) => new()
        {
            Classifier = CnnClassifier(network), Removal = MaskingMethod.Noise, Samples = 10, Seed = seed, BatchSize = rows, InternalBatchSize = passes,
        };
        var one = Vectors(Explain(ml, data, Lime(1, 1)), "Attribution");
        var five = Vectors(Explain(ml, data, Lime(5, 5)), "Attribution");
        var mixed = Vectors(Explain(ml, data, Lime(2, 3)), "Attribution");
        // Same noise, so only the convolutions' batch-dependent rounding differs.
        Assert.IsLessThan(1e-4, RelativeDifference(one, five), "batch sizes 1/1 and 5/5");
        Assert.IsLessThan(1e-4, RelativeDifference(mixed, five), "batch sizes 2/3 and 5/5");
        Assert.IsGreaterThan(1e-3, RelativeDifference(Vectors(Explain(ml, data, Lime(5, 5, seed: 4)), "Attribution"), five), "the seed reaches the noise");

        // ROAD's imputation noise in the evaluation, the same way.
        var shapes = ml.Data.LoadShapes(new ShapesOptions { ImageSize = CnnSide, Count = 5, Seed = 3, Shapes = [ShapeKind.Circle, ShapeKind.Square, ShapeKind.Triangle, ShapeKind.Cross] });
        var oracle = ml.Transforms.CopyColumns("Attribution", "ObjectMask").Fit(shapes).Transform(shapes);
        double Road(int batch) => ml.AttributionEvaluation().Evaluate(oracle, new Masking.Attribution.Metrics.AttributionEvaluationOptions
        {
            Classifier = CnnClassifier(network), Removals = [MaskingMethod.Noise], Fractions = [0, 0.5], TopK = [1], BatchSize = batch,
        })["Road"][Masking.Attribution.Metrics.AttributionCurveKind.DeletionMostRelevantFirst].MeanScores[1];
        Assert.AreEqual(Road(5), Road(1), 1e-5);
    }

    [TestMethod]
    public void FeatureAblationUnderLayerMaskingOnlyDependsOnTheSegmentRemoved()
    {
        var ml = new MLContext(0);
        var data = CnnData(ml, 2);
        var options = new FeatureAblationOptions { Classifier = CnnClassifier(), Segmentation = new SegmentationOptions { PatchSize = 8 } };
        var maps = Vectors(ml.Transforms.Attribution().FeatureAblation(options).Fit(data).Transform(data), "Attribution");
        foreach (var map in maps)
        {
            // 4 patches of 8×8: the map is constant on each.
            Assert.AreEqual(4, map.Distinct().Count(), "one value per segment");
            Assert.IsTrue(map.All(float.IsFinite));
        }
    }

    [TestMethod]
    public void LimeWithASaveableTransformerAsScorerSavesAndLoadsWithThePipeline()
    {
        var ml = new MLContext(0);
        var data = LinearData(ml, 3);
        var scorer = new LinearTestTransformer(ml, "Image", LinearSize, ["a", "b", "c"], batchSize: 4, seed: 2);
        var model = ml.Transforms.Attribution().Lime(new LimeOptions { ImageShape = Shape, Scorer = scorer, Samples = 32, Segmentation = new SegmentationOptions { PatchSize = 3 } }).Fit(data);
        var output = model.Transform(data);
        var path = Path.Combine(Path.GetTempPath(), $"lime-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(model, data.Schema, path);
            var reloaded = ml.Model.Load(path, out _).Transform(data);
            Assert.IsLessThan(1e-6, RelativeDifference(Vectors(reloaded, "Attribution"), Vectors(output, "Attribution")));
            CollectionAssert.AreEqual(Floats(output, "SurrogateR2"), Floats(reloaded, "SurrogateR2"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
