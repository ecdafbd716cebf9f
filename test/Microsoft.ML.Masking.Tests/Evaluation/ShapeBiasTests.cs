using Microsoft.ML.Masking.Evaluation;
using Microsoft.ML.Masking.LayerMasking;
using static Microsoft.ML.Masking.Tests.Evaluation.EvaluationTestData;

namespace Microsoft.ML.Masking.Tests.Evaluation;

/// <summary><c>EvaluateShapeBias</c> through the catalog: which images count, and bad object masks.</summary>
[TestClass]
public sealed class ShapeBiasTests
{
    private static ShapeBiasOptions Options() => new()
    {
        Classifier = Classifier(Network()),
        BatchSize = 5,
    };

    [TestMethod]
    public void OnlyImagesTheNetworkGetsRightWithAnObjectAreScored()
    {
        var ml = new MLContext(seed: 0);
        var options = Options();
        var rows = Rows(NetworkOf(options), 14);
        rows[0].ObjectMask = new float[Pixels]; // a correct image without an object: skipped
        var result = ml.MaskingEvaluation().EvaluateShapeBias(Load(ml, rows), options);

        Assert.AreEqual(14, result.RowCount);
        Assert.AreEqual(0.5, result.CleanAccuracy);
        Assert.AreEqual(1, result.RowsWithoutObject);
        Assert.AreEqual(6, result.EvaluatedCount, "the 7 even rows are right; one has no object");
        CollectionAssert.AreEqual(Enum.GetValues<MaskingMethod>(), result.Methods.Select(m => m.Method).ToArray());
        foreach (var m in result.Methods)
        {
            Assert.IsTrue(m.ObjectRemovedAccuracy is >= 0 and <= 1 && m.BrokenShapeAccuracy is >= 0 and <= 1, $"{m.Method}");
            Assert.AreEqual(Math.Sqrt(m.ObjectRemovedAccuracy * (1 - m.ObjectRemovedAccuracy) / 5), m.ObjectRemovedStandardError, 1e-12);
        }
        double expectedArea = rows.Where((r, i) => i % 2 == 0 && i > 0).Average(r => r.ObjectMask.Sum(v => (double)v)) / Pixels;
        Assert.AreEqual(expectedArea, result.MeanObjectFraction, 1e-12);
        Assert.AreEqual(1 + result.Methods.Count, result.ToCsv().TrimEnd('\n').Split('\n').Length);
    }

    [TestMethod]
    public void ObjectMasksMustBeZeroOrOneAndPresent()
    {
        var ml = new MLContext(seed: 0);
        var options = Options();
        var rows = Rows(NetworkOf(options), 3);
        rows[1].ObjectMask[40] = 0.5f;
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => ml.MaskingEvaluation().EvaluateShapeBias(Load(ml, rows), options)).Message,
            "Column 'ObjectMask', row 1: object masks must hold only 0 and 1; found 0.5 at index 40.");

        options.ObjectMaskColumnName = "Silhouette";
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MaskingEvaluation().EvaluateShapeBias(Load(ml, rows), options)).Message,
            "Could not find input column 'Silhouette'");
    }
}
