using System.Globalization;
using System.Xml.Linq;
using Microsoft.ML.Masking.Tests.TestDoubles;
using Microsoft.ML.Masking.Training;

namespace Microsoft.ML.Masking.Tests.Training;

[TestClass]
public sealed class ResNetTrainingHistoryTests
{
    private static ResNetTrainingHistory Train(bool withValidation)
    {
        var ml = new MLContext(1);
        var options = TrainingFixtures.TinyOptions();
        options.Epochs = 3;
        if (withValidation)
            options.ValidationSet = TrainingFixtures.Shapes(ml, 48, seed: 21);
        return ml.MulticlassClassification.Trainers.ResNet(options).Fit(TrainingFixtures.Shapes(ml, 96, seed: 20)).TrainingHistory;
    }

    private static string[] SeriesNames(string svg) =>
        XDocument.Parse(svg).Descendants().Where(e => e.Name.LocalName == "g")
            .Select(g => g.Elements().First(e => e.Name.LocalName == "title").Value).ToArray();

    [TestMethod]
    public void CsvHasOneRowPerEpochWithTheReportedNumbers()
    {
        var history = Train(withValidation: true);
        var rows = history.ToCsv().TrimEnd('\n').Split('\n');

        Assert.AreEqual("epoch,training_loss,training_accuracy,validation_loss,validation_accuracy,learning_rate,images_per_second,seconds", rows[0]);
        Assert.HasCount(4, rows);
        for (int i = 0; i < 3; i++)
        {
            var cells = rows[i + 1].Split(',');
            Assert.AreEqual(i + 1, int.Parse(cells[0], CultureInfo.InvariantCulture));
            Assert.AreEqual(history[i].TrainingLoss, double.Parse(cells[1], CultureInfo.InvariantCulture));
            Assert.AreEqual(history[i].ValidationAccuracy!.Value, double.Parse(cells[4], CultureInfo.InvariantCulture));
        }
    }

    [TestMethod]
    public void SvgDrawsAValidationCurveOnlyWhenThereWasAValidationSet()
    {
        var withValidation = Train(withValidation: true);
        var withoutValidation = Train(withValidation: false);

        CollectionAssert.AreEqual(new[] { "training", "validation" }, SeriesNames(withValidation.ToSvg()));
        CollectionAssert.AreEqual(new[] { "training", "validation" }, SeriesNames(withValidation.ToSvg(ResNetTrainingMetric.Loss)));
        CollectionAssert.AreEqual(new[] { "training" }, SeriesNames(withoutValidation.ToSvg()));
        StringAssert.Contains(withoutValidation.ToCsv().Split('\n')[1], ",NaN,NaN,", "no validation numbers are invented");
        StringAssert.Contains(withoutValidation.ToSvg(ResNetTrainingMetric.Loss), "Training loss per epoch (3 epochs)");
    }
}
