using Microsoft.ML.Data;
using Microsoft.ML.Masking.Attribution;
using static Microsoft.ML.Masking.Tests.Attribution.AttributionTestData;

namespace Microsoft.ML.Masking.Tests.Attribution;

/// <summary>The label target: each row is explained for its own label, read from a key or a class-number column.</summary>
[TestClass]
public sealed class AttributionTargetTests
{
    public sealed class KeyLabelRow
    {
        [VectorType(CnnSize)]
        public float[] Image { get; set; } = [];

        /// <summary>LoadFromEnumerable reads a key field 0-based: 0 becomes key 1.</summary>
        [KeyType(4)]
        public uint Label { get; set; }
    }

    public sealed class NumberLabelRow
    {
        [VectorType(CnnSize)]
        public float[] Image { get; set; } = [];

        public int Label { get; set; }
    }

    public sealed class TextLabelRow
    {
        [VectorType(CnnSize)]
        public float[] Image { get; set; } = [];

        public string Label { get; set; } = "";
    }

    private static readonly int[] Labels = [2, 0, 3, 1, 2];

    private static float[] Image(int i) => Pixels(CnnSize, 40 + i);

    private static float[][] Saliency(MLContext ml, IDataView data, Masking.Core.ImageClassifier classifier, AttributionTarget target) =>
        Vectors(ml.Transforms.Attribution().Saliency(new SaliencyOptions { Classifier = classifier, Target = target, BatchSize = 2 }).Fit(data).Transform(data), "Attribution");

    [TestMethod]
    public void ALabelTargetExplainsEachRowForItsOwnLabelFromAKeyOrANumberColumn()
    {
        var ml = new MLContext(0);
        var classifier = CnnClassifier();
        var keyed = ml.Data.LoadFromEnumerable(Labels.Select((l, i) => new KeyLabelRow { Image = Image(i), Label = (uint)l }).ToArray());
        var numbered = ml.Data.LoadFromEnumerable(Labels.Select((l, i) => new NumberLabelRow { Image = Image(i), Label = l }).ToArray());
        var byKey = Saliency(ml, keyed, classifier, AttributionTarget.Label());
        var byNumber = Saliency(ml, numbered, classifier, AttributionTarget.Label("Label"));
        for (int i = 0; i < Labels.Length; i++)
        {
            var single = ml.Data.LoadFromEnumerable(new[] { new KeyLabelRow { Image = Image(i), Label = 1 } });
            var expected = Saliency(ml, single, classifier, AttributionTarget.FixedClass(Labels[i]))[0];
            // Batched and single-image convolutions round differently: compare relative to the map's scale.
            Assert.IsLessThan(1e-5, RelativeDifference([byKey[i]], [expected]), $"row {i}, key label");
            Assert.IsLessThan(1e-5, RelativeDifference([byNumber[i]], [expected]), $"row {i}, number label");
        }
        // The classes differ, so a label target that ignored the label would fail above; check the maps do differ.
        var other = Saliency(ml, ml.Data.LoadFromEnumerable(new[] { new KeyLabelRow { Image = Image(0), Label = 1 } }), classifier, AttributionTarget.FixedClass(Labels[0] + 1))[0];
        Assert.IsGreaterThan(0.1, RelativeDifference([byKey[0]], [other]));
    }

    [TestMethod]
    public void KeyValuesInAnotherOrderAreMatchedToTheClassesByName()
    {
        var ml = new MLContext(0);
        var classes = new[] { "circle", "square", "star", "triangle" };
        var classifier = Masking.Core.ImageClassifier.FromModule(Cnn(), CnnNormalization, new Masking.Data.ImageShape(3, CnnSide, CnnSide), classes);
        // MapValueToKey orders keys by first appearance: star, circle, triangle, square.
        var names = new[] { "star", "circle", "triangle", "square", "star" };
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(ml.Data.LoadFromEnumerable(names.Select((n, i) => new TextLabelRow { Image = Image(i), Label = n }).ToArray()))
            .Transform(ml.Data.LoadFromEnumerable(names.Select((n, i) => new TextLabelRow { Image = Image(i), Label = n }).ToArray()));
        var keyNames = default(VBuffer<ReadOnlyMemory<char>>);
        data.Schema["Label"].GetKeyValues(ref keyNames);
        CollectionAssert.AreEqual(new[] { "star", "circle", "triangle", "square" }, keyNames.DenseValues().Select(v => v.ToString()).ToArray());
        var maps = Saliency(ml, data, classifier, AttributionTarget.Label());
        for (int i = 0; i < names.Length; i++)
        {
            var single = ml.Data.LoadFromEnumerable(new[] { new KeyLabelRow { Image = Image(i), Label = 1 } });
            var expected = Saliency(ml, single, classifier, AttributionTarget.FixedClass(Array.IndexOf(classes, names[i])))[0];
            Assert.IsLessThan(1e-5, RelativeDifference([maps[i]], [expected]), $"row {i} ({names[i]})");
        }
    }

    [TestMethod]
    public void ALabelColumnThatIsMissingTextOrOfTheWrongKeyCountIsRejectedNamingIt()
    {
        var ml = new MLContext(0);
        var options = new SaliencyOptions { Classifier = CnnClassifier(), Target = AttributionTarget.Label("Truth") };
        var keyed = ml.Data.LoadFromEnumerable(new[] { new KeyLabelRow { Image = Image(0), Label = 1 } });
        var missing = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.Attribution().Saliency(options).Fit(keyed));
        StringAssert.Contains(missing.Message, "Could not find input column 'Truth'");

        var text = ml.Data.LoadFromEnumerable(new[] { new TextLabelRow { Image = Image(0), Label = "star" } });
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.Attribution().Saliency(new SaliencyOptions { Classifier = CnnClassifier(), Target = AttributionTarget.Label() }).Fit(text));
        StringAssert.Contains(e.Message, "Schema mismatch for input column 'Label'");
        StringAssert.Contains(e.Message, "Key<UInt32> with 4 values");
        StringAssert.Contains(e.Message, "MapValueToKey");

        var threeKeys = ml.Transforms.Conversion.MapValueToKey("Label").Fit(ml.Data.LoadFromEnumerable(new[] { "a", "b", "c" }.Select(n => new TextLabelRow { Image = Image(0), Label = n }).ToArray()))
            .Transform(ml.Data.LoadFromEnumerable(new[] { new TextLabelRow { Image = Image(0), Label = "a" } }));
        var wrongCount = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.Attribution().Saliency(new SaliencyOptions { Classifier = CnnClassifier(), Target = AttributionTarget.Label() }).Fit(threeKeys));
        StringAssert.Contains(wrongCount.Message, "'Label'");

        var outOfRange = ml.Data.LoadFromEnumerable(new[] { new NumberLabelRow { Image = Image(0), Label = 4 } });
        var model = ml.Transforms.Attribution().Saliency(new SaliencyOptions { Classifier = CnnClassifier(), Target = AttributionTarget.Label() }).Fit(outOfRange);
        var row = Assert.ThrowsExactly<InvalidOperationException>(() => Vectors(model.Transform(outOfRange), "Attribution"));
        StringAssert.Contains(row.Message, "Column 'Label', row 0");
        Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.Attribution().Saliency(new SaliencyOptions { Classifier = CnnClassifier(), Target = AttributionTarget.Label(" ") }));
    }
}
