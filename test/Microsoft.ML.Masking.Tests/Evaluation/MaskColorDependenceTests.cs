using Microsoft.ML.Masking.Core.Segmentation;
using Microsoft.ML.Masking.Evaluation;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.LayerMasking.Engine;
using Microsoft.ML.Masking.Tests.LayerMasking;
using Microsoft.ML.Masking.Tests.TestDoubles;
using static Microsoft.ML.Masking.Tests.Evaluation.EvaluationTestData;

namespace Microsoft.ML.Masking.Tests.Evaluation;

/// <summary><c>EvaluateMaskColorDependence</c>: the paint's colour moves a plain network, never layer masking.</summary>
[TestClass]
public sealed class MaskColorDependenceTests
{
    private static MaskColorDependenceOptions Options(params MaskingMethod[] methods) => new()
    {
        Classifier = Classifier(Network()),
        Methods = methods,
        Segmentation = new SegmentationOptions { PatchSize = 4 },
        Fraction = 0.5,
        BatchSize = 7,
        Seed = 1,
    };

    [TestMethod]
    public void LayerMaskingIgnoresTheColourUnderTheMask()
    {
        var ml = new MLContext(seed: 0);
        var options = Options(MaskingMethod.LayerMasking, MaskingMethod.Grey, MaskingMethod.NeighbourPadding, MaskingMethod.Blur);
        var result = ml.MaskingEvaluation().EvaluateMaskColorDependence(Load(ml, Rows(NetworkOf(options), 16)), options);

        CollectionAssert.AreEqual(new[] { "black", "grey", "red", "green", "blue", "mean" }, result.Fills.ToArray());
        // Methods that never read removed pixels give bit-identical outputs whatever the paint.
        foreach (var method in new[] { MaskingMethod.LayerMasking, MaskingMethod.Grey, MaskingMethod.NeighbourPadding })
        {
            var spread = result.Method(method);
            Assert.AreEqual(0.0, spread.ProbabilitySpread, $"{method}");
            Assert.AreEqual(1.0, spread.Agreement, $"{method}");
            Assert.AreEqual(1.0, spread.MeanDistinctPredictions, $"{method}");
            Assert.AreEqual(1, spread.AccuracyByFill.Values.Distinct().Count(), $"{method}");
        }
        // The network reading the paint, and the blur that smears it into the hole, both move with the colour.
        Assert.IsTrue(result.PaintedInput.ProbabilitySpread > 0.05, $"painted input spread {result.PaintedInput.ProbabilitySpread}");
        Assert.IsTrue(result.PaintedInput.Agreement < 1, $"painted input agreement {result.PaintedInput.Agreement}");
        Assert.IsTrue(result.Method(MaskingMethod.Blur).ProbabilitySpread > 0, "blur reads the painted pixels");
        Assert.AreEqual(16, result.RowCount);
    }

    [TestMethod]
    public void TheGreyFillEqualsTheGreyMethodAndTheMeanFillTheMeanColorMethod()
    {
        var ml = new MLContext(seed: 0);
        var options = Options(MaskingMethod.Grey, MaskingMethod.MeanColor);
        options.Fills = [MaskFill.Grey, MaskFill.KeptMean];
        var rows = Rows(NetworkOf(options), 12);
        var result = ml.MaskingEvaluation().EvaluateMaskColorDependence(Load(ml, rows), options);

        // Painting with the data set's mean and normalising gives exactly 0 there, which is what the Grey baseline
        // writes: the same network input, batch and device, so the same predictions.
        Assert.AreEqual(result.Method(MaskingMethod.Grey).AccuracyByFill["grey"], result.PaintedInput.AccuracyByFill["grey"]);

        // The kept-pixel mean is computed twice, in pixel space by the fill and in normalised space by MeanColor:
        // the same images up to rounding...
        using var scope = TorchSharp.torch.NewDisposeScope();
        var pixels = TorchSharp.torch.tensor(rows.SelectMany(r => r.Image).ToArray(), [rows.Length, Channels, Side, Side]);
        var keep = TestNetworks.PatchMasks(rows.Length, Side, 4, 0.5, seed: 8).unsqueeze(1);
        var painted = Normalization.Apply(MaskFill.KeptMean.Paint(pixels, keep, Normalization, maxPixelValue: 1));
        var meanColor = InputMasking.Apply(MaskingMethod.MeanColor, Normalization.Apply(pixels), keep, black: TorchSharp.torch.zeros(1, Channels, 1, 1), blurSigma: 1, generator: null);
        FloatAssert.AreClose(painted, meanColor, 1e-5, "kept-mean fill against the MeanColor method: two computations of one mean colour");
        // ...so their predictions agree, but for an image on a near-tie, which rounding alone may flip.
        Assert.AreEqual(result.Method(MaskingMethod.MeanColor).AccuracyByFill["mean"], result.PaintedInput.AccuracyByFill["mean"], 1.0 / rows.Length + 1e-12,
            "kept-mean fill against MeanColor: at most one of the 12 predictions may differ");
    }

    [TestMethod]
    public void CsvHasOneRowPerScoredVariant()
    {
        var ml = new MLContext(seed: 0);
        var options = Options(MaskingMethod.LayerMasking, MaskingMethod.Black);
        var result = ml.MaskingEvaluation().EvaluateMaskColorDependence(Load(ml, Rows(NetworkOf(options), 4)), options);
        var lines = result.ToCsv().TrimEnd('\n').Split('\n');
        Assert.AreEqual("name,agreement,agreement_se,mean_distinct,probability_spread,probability_spread_se,accuracy_black,accuracy_grey,accuracy_red,accuracy_green,accuracy_blue,accuracy_mean", lines[0]);
        CollectionAssert.AreEqual(new[] { "painted input", "LayerMasking", "Black" }, lines.Skip(1).Select(l => l.Split(',')[0]).ToArray());
    }

    [TestMethod]
    public void FillsMustMatchTheChannelsAndTheFractionMustBeAboveZero()
    {
        var ml = new MLContext(seed: 0);
        var options = Options(MaskingMethod.LayerMasking);
        options.Fills = [MaskFill.Black, MaskFill.Constant("teal", 0, 0.5f)];
        var data = Load(ml, Rows(NetworkOf(options), 2));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => ml.MaskingEvaluation().EvaluateMaskColorDependence(data, options)).Message,
            "Fill 'teal' has 2 channel values; the images have 3 channel(s).");

        options.Fills = null;
        options.Fraction = 0;
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MaskingEvaluation().EvaluateMaskColorDependence(data, options));
    }
}
