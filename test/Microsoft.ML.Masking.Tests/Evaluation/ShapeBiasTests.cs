using Microsoft.ML.Masking.Evaluation;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.LayerMasking.Engine;
using static Microsoft.ML.Masking.Tests.Evaluation.EvaluationTestData;
using static TorchSharp.torch;

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
        // Each method's accuracies, recomputed here with the object mask and with that mask rolled by half the image
        // (8, 8). The evaluator scores the right images of each batch of 5 together, so do the same here: the same
        // images, masks, batches and classifier make the same computation, and the accuracies must match exactly.
        // Noise draws from the evaluator's seeded generator and is left to RemovalMaskTests.
        var evaluated = Enumerable.Range(0, rows.Length).Where(i => i % 2 == 0 && i > 0).ToArray();
        bool anyDiffers = false;
        foreach (var m in result.Methods)
        {
            Assert.AreEqual(Math.Sqrt(m.ObjectRemovedAccuracy * (1 - m.ObjectRemovedAccuracy) / 5), m.ObjectRemovedStandardError, 1e-12);
            if (m.Method == MaskingMethod.Noise)
            {
                Assert.IsTrue(m.ObjectRemovedAccuracy is >= 0 and <= 1 && m.BrokenShapeAccuracy is >= 0 and <= 1, $"{m.Method}");
                continue;
            }
            double removed = Accuracy(options, rows, evaluated, m.Method, broken: false);
            double broken = Accuracy(options, rows, evaluated, m.Method, broken: true);
            Assert.AreEqual(removed, m.ObjectRemovedAccuracy, $"{m.Method}, object removed");
            Assert.AreEqual(broken, m.BrokenShapeAccuracy, $"{m.Method}, broken shape (the object mask rolled by half the image)");
            anyDiffers |= removed != broken;
        }
        Assert.IsTrue(anyDiffers, "the data tell the object mask from the rolled one for some method, so a mask left unrolled would fail above");
        double expectedArea = rows.Where((r, i) => i % 2 == 0 && i > 0).Average(r => r.ObjectMask.Sum(v => (double)v)) / Pixels;
        Assert.AreEqual(expectedArea, result.MeanObjectFraction, 1e-12);
        Assert.AreEqual(1 + result.Methods.Count, result.ToCsv().TrimEnd('\n').Split('\n').Length);
    }

    private static double Accuracy(ShapeBiasOptions options, Row[] rows, int[] evaluated, MaskingMethod method, bool broken)
    {
        using var scope = NewDisposeScope();
        using var classifier = new MaskedClassifier(NetworkOf(options), method, Normalization, options.BlurSigma);
        int correct = 0;
        foreach (var batch in evaluated.GroupBy(i => i / options.BatchSize))
        {
            var images = tensor(batch.SelectMany(i => rows[i].Image).ToArray(), [batch.Count(), Channels, Side, Side]);
            var keep = tensor(batch.SelectMany(i => Enumerable.Range(0, Pixels).Select(p =>
            {
                int y = p / Side, x = p % Side;
                int source = broken ? (y + Side - Side / 2) % Side * Side + (x + Side - Side / 2) % Side : p;
                return 1 - rows[i].ObjectMask[source];
            })).ToArray(), [batch.Count(), Side, Side]);
            var predicted = classifier.Forward(images, keep).Logits.argmax(1).data<long>().ToArray();
            correct += batch.Where((i, k) => predicted[k] == rows[i].Label).Count();
        }
        return correct / (double)evaluated.Length;
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
