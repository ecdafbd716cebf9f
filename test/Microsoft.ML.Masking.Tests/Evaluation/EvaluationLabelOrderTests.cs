using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Segmentation;
using Microsoft.ML.Masking.Evaluation;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Runtime;
using static Microsoft.ML.Masking.Tests.Evaluation.EvaluationTestData;

namespace Microsoft.ML.Masking.Tests.Evaluation;

/// <summary>The evaluators match labels to classes by their key-value names, and warn about pixels on the wrong scale.</summary>
[TestClass]
public sealed class EvaluationLabelOrderTests
{
    private static readonly string[] ClassNames = ["c0", "c1", "c2", "c3", "c4"];

    public sealed class NamedRow
    {
        [VectorType(Channels * Pixels)]
        public float[] Image { get; set; } = [];

        public string Class { get; set; } = "";
    }

    public sealed class Name
    {
        public string Value { get; set; } = "";
    }

    private static IDataView WithKeyOrder(MLContext ml, IEnumerable<Row> rows, IEnumerable<string> keyOrder)
    {
        var named = ml.Data.LoadFromEnumerable(rows.Select(r => new NamedRow { Image = r.Image, Class = ClassNames[r.Label] }));
        var keys = ml.Data.LoadFromEnumerable(keyOrder.Select(n => new Name { Value = n }));
        return ml.Transforms.Conversion.MapValueToKey("Label", nameof(NamedRow.Class), keyData: keys).Fit(named).Transform(named);
    }

    private static FeatureRemovalOptions Options(Microsoft.ML.Masking.Models.ResNet network) => new()
    {
        Classifier = ImageClassifier.FromModule(network, Normalization, new Microsoft.ML.Masking.Data.ImageShape(Channels, Side, Side), ClassNames),
        Methods = [MaskingMethod.LayerMasking],
        Fractions = [0],
        Segmentation = new SegmentationOptions { PatchSize = 4 },
        BatchSize = 5,
    };

    [TestMethod]
    public void LabelsWhoseKeysAreInAnotherOrderAreMatchedByName()
    {
        var ml = new MLContext(seed: 0);
        var network = Network();
        var rows = Rows(network, 12);
        var inOrder = ml.MaskingEvaluation().EvaluateFeatureRemoval(WithKeyOrder(ml, rows, ClassNames), Options(network));
        var reversed = ml.MaskingEvaluation().EvaluateFeatureRemoval(WithKeyOrder(ml, rows, ClassNames.Reverse()), Options(network));
        Assert.AreEqual(0.5, inOrder.Curves[0].At(0).Accuracy, "the even rows are right");
        Assert.AreEqual(0.5, reversed.Curves[0].At(0).Accuracy, "the same rows are right when the label's keys are reversed");
    }

    [TestMethod]
    public void LabelNamesThatAreNotTheClassesAreRejectedNamingBoth()
    {
        var ml = new MLContext(seed: 0);
        var network = Network();
        var data = WithKeyOrder(ml, Rows(network, 4), ["c0", "c1", "c2", "c3", "x"]);
        var e = Assert.ThrowsExactly<ArgumentException>(() => ml.MaskingEvaluation().EvaluateFeatureRemoval(data, Options(network)));
        StringAssert.Contains(e.Message, "Column 'Label' has key values [c0, c1, c2, c3, x] but the classifier's classes are [c0, c1, c2, c3, c4]");
        Assert.AreEqual("inputSchema", e.ParamName);

        var noLabel = Options(network);
        noLabel.LabelColumnName = "Truth";
        var missing = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MaskingEvaluation().EvaluateFeatureRemoval(data, noLabel));
        Assert.AreEqual("inputSchema", missing.ParamName, "one parameter name in every schema error");
        StringAssert.Contains(missing.Message, "'Truth'");
    }

    [TestMethod]
    public void PixelsOnAnotherScaleThanTheNormalizationAreWarnedAbout()
    {
        var ml = new MLContext(seed: 0);
        var warnings = new List<string>();
        ml.Log += (_, e) => { if (e.Kind == ChannelMessageKind.Warning) lock (warnings) warnings.Add(e.Message); };
        var network = Network();
        var rows = Rows(network, 4);
        ml.MaskingEvaluation().EvaluateFeatureRemoval(WithKeyOrder(ml, rows, ClassNames), Options(network));
        Assert.IsEmpty(warnings, "0–1 pixels fit the test normalization");
        foreach (var row in rows)
            for (int i = 0; i < row.Image.Length; i++)
                row.Image[i] *= 255;
        ml.MaskingEvaluation().EvaluateFeatureRemoval(WithKeyOrder(ml, rows, ClassNames), Options(network));
        Assert.HasCount(1, warnings);
        StringAssert.Contains(warnings[0], "Column 'Image'");
    }
}
