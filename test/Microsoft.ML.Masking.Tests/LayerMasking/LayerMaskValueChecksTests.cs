using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.Tests.TestDoubles;
using Microsoft.ML.Runtime;
using static Microsoft.ML.Masking.Tests.LayerMasking.TestNetworks;

namespace Microsoft.ML.Masking.Tests.LayerMasking;

/// <summary>
/// LayerMask's value checks: bad masks and pixels fail at Fit naming the row (and the image path), later rows name
/// their position; removed pixels may hold anything except with Blur; pixels on the wrong scale are warned about;
/// the outputs follow the label's key order.
/// </summary>
[TestClass]
public sealed class LayerMaskValueChecksTests
{
    private const int Side = 12;

    public sealed class Row
    {
        [VectorType(3, Side, Side)]
        public float[] Image { get; set; } = [];

        [VectorType(Side, Side)]
        public float[] Mask { get; set; } = [];

        public string ImagePath { get; set; } = "";
    }

    private static Row[] Rows(int count, float scale = 1f)
    {
        var random = new Random(6);
        return Enumerable.Range(0, count).Select(i => new Row
        {
            Image = Enumerable.Range(0, 3 * Side * Side).Select(_ => random.NextSingle() * scale).ToArray(),
            Mask = Enumerable.Range(0, Side * Side).Select(p => p % 3 == 0 ? 0f : 1f).ToArray(),
            ImagePath = $"photos/{i}.png",
        }).ToArray();
    }

    private static LayerMaskingEstimator LayerMask(MLContext ml, MaskingMethod method = MaskingMethod.LayerMasking, int batchSize = 4) =>
        ml.Transforms.LayerMask(new LayerMaskingOptions
        {
            Classifier = ImageClassifier.FromModule(SmallBasic(), ChannelNormalization.ImageNet, new ImageShape(3, Side, Side)),
            Method = method,
            BatchSize = batchSize,
        });

    [TestMethod]
    public void ABadMaskInTheFirstBatchFailsAtFitNamingTheRowAndTheImage()
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(4);
        rows[2].Mask[7] = 0.5f;
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => LayerMask(ml).Fit(ml.Data.LoadFromEnumerable(rows)));
        StringAssert.Contains(e.Message, "Column 'Mask', row 2 (image 'photos/2.png'): masks must hold only 0 and 1; found 0.5");
    }

    [TestMethod]
    public void ABadMaskFurtherOnFailsWhenScoredNamingItsPosition()
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(7);
        using var transformer = LayerMask(ml, batchSize: 2).Fit(ml.Data.LoadFromEnumerable(rows));
        rows[5].Mask[0] = 2f;
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => TestData.Vectors(transformer.Transform(ml.Data.LoadFromEnumerable(rows)), "Score"));
        StringAssert.Contains(e.Message, "Column 'Mask', row 5: masks must hold only 0 and 1; found 2");
    }

    [TestMethod]
    public void RemovedPixelsMayHoldNaNForEveryMethodButBlur()
    {
        var ml = new MLContext(seed: 1);
        var clean = Rows(3);
        var withNaN = Rows(3);
        for (int c = 0; c < 3; c++)
            withNaN[1].Image[c * Side * Side + 3] = float.NaN; // pixel 3 is removed (3 % 3 == 0)
        foreach (var method in Enum.GetValues<MaskingMethod>().Where(m => m != MaskingMethod.Blur))
        {
            // A removed pixel's value is never read: NaN there gives the scores of the value it had before.
            using var transformer = LayerMask(ml, method).Fit(ml.Data.LoadFromEnumerable(clean));
            var expected = TestData.Vectors(transformer.Transform(ml.Data.LoadFromEnumerable(clean)), "Score");
            var actual = TestData.Vectors(transformer.Transform(ml.Data.LoadFromEnumerable(withNaN)), "Score");
            for (int r = 0; r < expected.Count; r++)
                CollectionAssert.AreEqual(expected[r], actual[r], $"{method}, row {r}: NaN under the mask");
        }
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => LayerMask(ml, MaskingMethod.Blur).Fit(ml.Data.LoadFromEnumerable(withNaN)));
        StringAssert.Contains(e.Message, "Column 'Image', row 1 (image 'photos/1.png'): a pixel is NaN or infinite. Blur reads every pixel, removed ones included");
    }

    [TestMethod]
    public void ANaNInAKeptPixelNamesTheMethod()
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(2);
        rows[1].Image[1] = float.PositiveInfinity; // pixel 1 is kept
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => LayerMask(ml, MaskingMethod.Grey).Fit(ml.Data.LoadFromEnumerable(rows)));
        StringAssert.Contains(e.Message, "Column 'Image', row 1 (image 'photos/1.png'): a kept pixel is NaN or infinite. Grey reads every kept pixel (removed ones may hold anything)");
    }

    [TestMethod]
    public void PixelsOf0To255WithTheImageNetNormalizationAreWarnedAboutThroughTheLog()
    {
        var ml = new MLContext(seed: 1);
        var warnings = new List<string>();
        ml.Log += (_, e) => { if (e.Kind == ChannelMessageKind.Warning) lock (warnings) warnings.Add(e.Message); };
        using (LayerMask(ml).Fit(ml.Data.LoadFromEnumerable(Rows(4))))
            Assert.IsEmpty(warnings, "0–1 pixels fit ImageNet's normalization");
        using (LayerMask(ml).Fit(ml.Data.LoadFromEnumerable(Rows(4, scale: 255f))))
        {
            Assert.HasCount(1, warnings);
            StringAssert.Contains(warnings[0], "Column 'Image'");
            StringAssert.Contains(warnings[0], "ExtractPixels(scaleImage: 1f / 255)");
        }
    }

    public sealed class LabelledRow
    {
        [VectorType(3, Side, Side)]
        public float[] Image { get; set; } = [];

        [VectorType(Side, Side)]
        public float[] Mask { get; set; } = [];

        public string Class { get; set; } = "";
    }

    public sealed class Name
    {
        public string Value { get; set; } = "";
    }

    [TestMethod]
    public void OutputsFollowTheLabelsKeyOrderSoEvaluateComparesTheRightClasses()
    {
        var ml = new MLContext(seed: 1);
        string[] classes = ["a", "b", "c", "d", "e"];
        var classifier = ImageClassifier.FromModule(SmallBasic(), ChannelNormalization.ImageNet, new ImageShape(3, Side, Side), classes);
        var rows = Rows(12);
        // Label each row with the class the network predicts for it: accuracy must come out as 1.
        var plain = ml.Transforms.LayerMask("Score", classifier).Fit(ml.Data.LoadFromEnumerable(rows));
        var predicted = TestData.Vectors(plain.Transform(ml.Data.LoadFromEnumerable(rows)), "Score")
            .Select(s => classes[Array.IndexOf(s, s.Max())]).ToArray();
        var labelled = ml.Data.LoadFromEnumerable(rows.Select((r, i) => new LabelledRow { Image = r.Image, Mask = Enumerable.Repeat(1f, Side * Side).ToArray(), Class = predicted[i] }));

        foreach (var order in new[] { classes, classes.Reverse().ToArray() })
        {
            var keys = ml.Data.LoadFromEnumerable(order.Select(n => new Name { Value = n }));
            var withLabel = ml.Transforms.Conversion.MapValueToKey("Label", nameof(LabelledRow.Class), keyData: keys).Fit(labelled).Transform(labelled);
            using var transformer = ml.Transforms.LayerMask("Score", classifier).Fit(withLabel);
            var metrics = ml.MulticlassClassification.Evaluate(transformer.Transform(withLabel));
            Assert.AreEqual(1.0, metrics.MicroAccuracy, $"label keys in order [{string.Join(", ", order)}]");
        }

        var partial = ml.Transforms.Conversion.MapValueToKey("Label", nameof(LabelledRow.Class),
            keyData: ml.Data.LoadFromEnumerable(new[] { "a", "z" }.Select(n => new Name { Value = n }))).Fit(labelled).Transform(labelled);
        var e = Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.LayerMask("Score", classifier).Fit(partial));
        StringAssert.Contains(e.Message, "Column 'Label' has key values [a, z] but the classifier's classes are [a, b, c, d, e]; not classes of the classifier: z");
    }
}
