using Microsoft.ML.Masking.Core.Segmentation;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Evaluation;
using Microsoft.ML.Masking.Evaluation.Engine;
using Microsoft.ML.Masking.LayerMasking;

namespace Microsoft.ML.Masking.Tests.Evaluation;

/// <summary>The masks the evaluators build: shared by every method (paired), nested across fractions, as many segments as asked.</summary>
[TestClass]
public sealed class RemovalMaskTests
{
    private static readonly MaskingMethod[] Methods = [MaskingMethod.LayerMasking, MaskingMethod.Grey, MaskingMethod.Noise];
    private static readonly ImageShape Shape = new(1, 12, 12);

    private static EvaluationBatch Batch(long firstRow, int count, float[]? objectMasks = null)
    {
        var random = new Random(4);
        return new EvaluationBatch(firstRow, count, Enumerable.Range(0, count * Shape.Size).Select(_ => random.NextSingle()).ToArray(),
            new int[count], ObjectMasks: objectMasks);
    }

    [TestMethod]
    public void EveryMethodSeesTheSameMasksAndRemovalIsNested()
    {
        double[] fractions = [0, 0.1, 0.5, 0.7, 1];
        var scorer = new RecordingScorer(Methods);
        var engine = new FeatureRemovalEngine(scorer, Shape, 3, fractions, new SegmentationOptions { PatchSize = 3 }, RemovalOrder.Random, repeats: 2, seed: 9);
        engine.Add(Batch(0, 4));

        Assert.AreEqual(2 * fractions.Length * Methods.Length, scorer.Calls.Count);
        var perFraction = scorer.Calls.Chunk(Methods.Length).ToArray();
        foreach (var calls in perFraction)
        {
            CollectionAssert.AreEqual(Methods, calls.Select(c => c.Method).ToArray());
            foreach (var call in calls.Skip(1))
                CollectionAssert.AreEqual(calls[0].Keep, call.Keep, "paired: one mask for every method");
        }
        // 16 patches of 3×3 per image: round(d·16) removed, each later fraction removing a superset.
        for (int repeat = 0; repeat < 2; repeat++)
        {
            for (int image = 0; image < 4; image++)
            {
                HashSet<int>? previous = null;
                for (int f = 0; f < fractions.Length; f++)
                {
                    var keep = perFraction[repeat * fractions.Length + f][0].Keep.AsSpan(image * Shape.Pixels, Shape.Pixels).ToArray();
                    var removed = Enumerable.Range(0, keep.Length).Where(p => keep[p] == 0).ToHashSet();
                    Assert.AreEqual(9 * (int)Math.Round(fractions[f] * 16, MidpointRounding.AwayFromZero), removed.Count);
                    if (previous is not null)
                        Assert.IsTrue(previous.IsSubsetOf(removed), "nested removal");
                    previous = removed;
                }
            }
        }
        var first = perFraction[2][0].Keep;
        var second = perFraction[fractions.Length + 2][0].Keep;
        CollectionAssert.AreNotEqual(first, second, "each repeat draws a new order");
    }

    [TestMethod]
    public void AnImagesMasksDependOnItsRowNotItsBatch()
    {
        double[] fractions = [0.5];
        var whole = new RecordingScorer(Methods[..1]);
        new FeatureRemovalEngine(whole, Shape, 3, fractions, new SegmentationOptions { PatchSize = 4 }, RemovalOrder.Random, 1, seed: 2).Add(Batch(10, 3));
        var split = new RecordingScorer(Methods[..1]);
        var engine = new FeatureRemovalEngine(split, Shape, 3, fractions, new SegmentationOptions { PatchSize = 4 }, RemovalOrder.Random, 1, seed: 2);
        var batch = Batch(10, 3);
        engine.Add(batch with { Count = 1, Pixels = batch.Pixels[..Shape.Size], Labels = [0] });
        engine.Add(batch with { FirstRow = 11, Count = 2, Pixels = batch.Pixels[Shape.Size..], Labels = [0, 0] });
        CollectionAssert.AreEqual(whole.Calls[0].Keep, split.Calls.SelectMany(c => c.Keep).ToArray());
    }

    [TestMethod]
    public void EachEvaluatorDrawsARowsNoiseFromItsRowNotItsBatch()
    {
        // Rows 10–12 in one batch of three against a batch of one and a batch of two: each row gets the same noise, bit
        // for bit (the same draws), in every evaluator; the methods that read no noise are given none.
        var objects = Enumerable.Range(0, 3 * Shape.Pixels).Select(p => p % Shape.Pixels < 30 ? 1f : 0f).ToArray();
        var batch = Batch(10, 3, objects);
        var first = batch with { Count = 1, Pixels = batch.Pixels[..Shape.Size], Labels = [0], ObjectMasks = objects[..Shape.Pixels] };
        var rest = batch with { FirstRow = 11, Count = 2, Pixels = batch.Pixels[Shape.Size..], Labels = [0, 0], ObjectMasks = objects[Shape.Pixels..] };
        // (An engine's result type is covariant: each is an IEvaluationEngine<object>.)
        var engines = new Func<RecordingScorer, IEvaluationEngine<object>>[]
        {
            scorer => new FeatureRemovalEngine(scorer, Shape, 3, [0.5], new SegmentationOptions { PatchSize = 4 }, RemovalOrder.Random, 2, seed: 2),
            scorer => new ShapeBiasEngine(scorer, Shape, seed: 2),
            scorer => new MaskColorDependenceEngine(scorer, Shape, new MaskColorDependenceOptions().FillsFor(1), 0.5,
                new SegmentationOptions { PatchSize = 4 }, seed: 2, Masking.Core.ChannelNormalization.Identity(1), 1f),
        };
        foreach (var (make, name) in engines.Zip(new[] { "feature removal", "shape bias", "mask colour dependence" }))
        {
            var whole = new RecordingScorer(Methods);
            make(whole).Add(batch);
            var split = new RecordingScorer(Methods);
            var engine = make(split);
            engine.Add(first);
            engine.Add(rest);
            var wholeNoise = whole.Calls.Select((c, i) => (c.Method, Noise: whole.Noise[i])).ToList();
            Assert.IsTrue(wholeNoise.All(c => (c.Method == MaskingMethod.Noise) == (c.Noise is not null)), $"{name}: noise given to the noise baseline only");
            var noiseCalls = wholeNoise.Where(c => c.Noise is not null).Select(c => c.Noise!).ToList();
            var splitCalls = split.Noise.Where(n => n is not null).Select(n => n!).ToList();
            Assert.AreEqual(2 * noiseCalls.Count, splitCalls.Count, $"{name}: one noise call per batch");
            int perRow = Shape.Size;
            for (int k = 0; k < noiseCalls.Count; k++)
            {
                // Call k of the whole batch is call k of the first split batch (row 10) and of the second (rows 11, 12).
                var joined = splitCalls[k].Concat(splitCalls[noiseCalls.Count + k]).ToArray();
                Assert.AreEqual(3 * perRow, noiseCalls[k].Length, $"{name}: noise shaped as the three images");
                CollectionAssert.AreEqual(noiseCalls[k], joined, $"{name}, noise call {k}: rows 10–12 in one batch against batches of one and two");
            }
            Assert.IsGreaterThan(1, noiseCalls.Count, $"{name}: several noise calls");
            if (name == "mask colour dependence")
                CollectionAssert.AreEqual(noiseCalls[0], noiseCalls[1], $"{name}: every fill gets the same noise, only the painted colour differs");
            else
                CollectionAssert.AreNotEqual(noiseCalls[0], noiseCalls[1], $"{name}: another repeat or variant draws other noise");
        }
    }

    [TestMethod]
    public void ShapeBiasRemovesTheObjectAndTheSameMaskRolledByHalfTheImage()
    {
        var objects = new float[2 * Shape.Pixels];
        for (int y = 2; y < 5; y++)
            for (int x = 1; x < 7; x++)
                objects[y * 12 + x] = 1;
        objects[Shape.Pixels + 0] = 1; // the second image's object: its corner pixel
        var scorer = new RecordingScorer(Methods);
        var engine = new ShapeBiasEngine(scorer, Shape, seed: 0);
        engine.Add(Batch(0, 2, objects));

        Assert.AreEqual(2 * Methods.Length, scorer.Calls.Count);
        for (int m = 0; m < Methods.Length; m++)
        {
            var objectKeep = scorer.Calls[2 * m].Keep;
            var brokenKeep = scorer.Calls[2 * m + 1].Keep;
            for (int image = 0; image < 2; image++)
                for (int y = 0; y < 12; y++)
                    for (int x = 0; x < 12; x++)
                    {
                        int p = image * Shape.Pixels + y * 12 + x;
                        Assert.AreEqual(1 - objects[p], objectKeep[p]);
                        Assert.AreEqual(1 - objects[image * Shape.Pixels + (y + 6) % 12 * 12 + (x + 6) % 12], brokenKeep[p]);
                    }
        }
        var result = engine.Result();
        Assert.AreEqual(2, result.EvaluatedCount);
        Assert.AreEqual((18 + 1) / 2.0 / Shape.Pixels, result.MeanObjectFraction, 1e-12);
    }
}
