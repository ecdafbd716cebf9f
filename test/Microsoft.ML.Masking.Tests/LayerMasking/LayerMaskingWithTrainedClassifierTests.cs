using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.Tests.TestDoubles;

namespace Microsoft.ML.Masking.Tests.LayerMasking;

/// <summary>LayerMask fed by the ResNet trainer's classifier: ML.NET's evaluator reads its output directly.</summary>
[TestClass]
public sealed class LayerMaskingWithTrainedClassifierTests
{
    [TestMethod]
    public void ClassifierOverloadAddsAPredictedLabelThatEvaluateAccepts()
    {
        var ml = new MLContext(seed: 1);
        var train = TrainingFixtures.Shapes(ml, 128, seed: 1);
        var test = TrainingFixtures.Shapes(ml, 48, seed: 2);
        var classifier = ml.MulticlassClassification.Trainers.ResNet(TrainingFixtures.TinyOptions()).Fit(train);

        var clean = ml.MulticlassClassification.Evaluate(classifier.Transform(test));
        var removedObject = ml.Transforms.LayerMask("Score", classifier, maskColumnName: "ObjectMask", maskMarksRemoved: true).Fit(test).Transform(test);
        var metrics = ml.MulticlassClassification.Evaluate(removedObject);
        Assert.IsTrue(metrics.MicroAccuracy is >= 0 and <= 1);
        Assert.AreEqual("Circle", ((IReadOnlyList<string>)classifier.ClassNames)[0]);

        // The object mask as a keep-mask keeps only the object; as a remove-mask only the background: they must differ.
        var keptObject = ml.Transforms.LayerMask("Score", classifier, maskColumnName: "ObjectMask", maskMarksRemoved: false).Fit(test).Transform(test);
        var a = TestData.Vectors(removedObject, "Score");
        var b = TestData.Vectors(keptObject, "Score");
        Assert.IsTrue(a.Zip(b).Any(p => p.First.Zip(p.Second).Any(v => Math.Abs(v.First - v.Second) > 1e-4)), "remove vs keep differ");
        Assert.IsTrue(clean.MicroAccuracy > 0, "the trained classifier is better than nothing");
    }
}
