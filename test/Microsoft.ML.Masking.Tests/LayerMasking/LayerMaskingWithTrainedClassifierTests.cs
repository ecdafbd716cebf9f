using Microsoft.ML.Data;
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

        var removedObject = ml.Transforms.LayerMask("Score", classifier, maskColumnName: "ObjectMask", maskMarksRemoved: true).Fit(test).Transform(test);

        // PredictedLabel is a key over the classifier's classes, named like them, and the arg-max of the layer-masked Score.
        var key = removedObject.Schema["PredictedLabel"];
        Assert.AreEqual(new KeyDataViewType(typeof(uint), 4), key.Type);
        VBuffer<ReadOnlyMemory<char>> names = default;
        key.GetKeyValues(ref names);
        CollectionAssert.AreEqual(classifier.ClassNames.ToArray(), names.DenseValues().Select(n => n.ToString()).ToArray());
        Assert.AreEqual("Circle", ((IReadOnlyList<string>)classifier.ClassNames)[0]);
        var scores = TestData.Vectors(removedObject, "Score");
        var predicted = TestData.Column<uint>(removedObject, "PredictedLabel");
        var labels = TestData.Column<uint>(removedObject, "Label");
        for (int i = 0; i < scores.Count; i++)
            Assert.AreEqual((uint)(Array.IndexOf(scores[i], scores[i].Max()) + 1), predicted[i], $"row {i}");

        // Evaluate reads that column: its accuracy is the share of rows whose PredictedLabel is the Label. (The tiny
        // classifier is near chance; what masking does to a trained one is the Samples' robustness experiment.)
        var metrics = ml.MulticlassClassification.Evaluate(removedObject);
        Assert.AreEqual(predicted.Zip(labels).Count(p => p.First == p.Second) / (double)labels.Count, metrics.MicroAccuracy, 1e-12);

        // The object mask as a keep-mask keeps only the object; as a remove-mask only the background: they must differ.
        var keptObject = ml.Transforms.LayerMask("Score", classifier, maskColumnName: "ObjectMask", maskMarksRemoved: false).Fit(test).Transform(test);
        var b = TestData.Vectors(keptObject, "Score");
        Assert.IsTrue(scores.Zip(b).Any(p => p.First.Zip(p.Second).Any(v => Math.Abs(v.First - v.Second) > 1e-4)), "remove vs keep differ");
    }
}
