using Microsoft.ML.Masking.Core.Segmentation;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Evaluation;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Training;

namespace Microsoft.ML.Masking.Samples;

/// <summary>
/// The README's shorter code examples, kept here so that they compile with every build; a test checks that each
/// README section shows exactly the lines between its markers. The <c>train</c> and <c>robustness</c> samples run the
/// same calls end to end. (The quick start lives in <see cref="Commands.QuickStartCommand"/>, which also runs it.)
/// </summary>
public static class ReadmeSnippets
{
    /// <summary>The README's "Training" example: a Fashion-MNIST ResNet, evaluated and saved.</summary>
    /// <param name="ml">The ML.NET context.</param>
    /// <returns>The trained classifier.</returns>
    public static ResNetClassificationTransformer Training(MLContext ml)
    {
        // README Training: begin
        var train = ml.Data.LoadFashionMnist(FashionMnistSplit.Train);   // or LoadShapes, LoadIdx, LoadImageFolder + LoadImagePixels
        var test = ml.Data.LoadFashionMnist(FashionMnistSplit.Test);
        var classifier = ml.MulticlassClassification.Trainers.ResNet(new ResNetTrainer.Options
        {
            Architecture = new ResNetArchitecture { Layers = [2, 2, 2, 2], BaseWidth = 16, SmallImageStem = true },
            Epochs = 12,
            RandomCropPadding = 2,
            CheckpointPath = "fmnist.ckpt",   // rewritten atomically every epoch; rerunning resumes from it
        }).Fit(train);
        var metrics = ml.MulticlassClassification.Evaluate(classifier.Transform(test));
        Console.WriteLine($"test accuracy {metrics.MicroAccuracy:P2}");
        ml.Model.Save(classifier, train.Schema, "model.zip");
        // README Training: end
        return classifier;
    }

    /// <summary>The README's "Measuring missingness bias" example.</summary>
    /// <param name="ml">The ML.NET context.</param>
    /// <param name="classifier">A trained shapes classifier (32×32 RGB).</param>
    public static void MeasuringMissingnessBias(MLContext ml, ResNetClassificationTransformer classifier)
    {
        // README Measuring missingness bias: begin
        var test = ml.Data.LoadShapes(new ShapesOptions { ImageSize = 32, Count = 2000, Seed = 2 });
        var curves = ml.MaskingEvaluation().EvaluateFeatureRemoval(test, new FeatureRemovalOptions
        {
            Classifier = classifier.Classifier,                       // network, normalization, image shape, class names
            Segmentation = new SegmentationOptions { PatchSize = 4 }, // or Kind = Superpixels / Column
        });
        foreach (var curve in curves.Curves)
            Console.WriteLine($"{curve.Method}: accuracy {curve.At(0.5).Accuracy:P1} ± {curve.At(0.5).AccuracyStandardError:P1} with half the patches removed");
        curves.SaveSvg("accuracy.svg");   // one line per method; also SaveCsv, and FeatureRemovalMetric.Unchanged / ClassEntropy

        var shapeBias = ml.MaskingEvaluation().EvaluateShapeBias(test, new ShapeBiasOptions { Classifier = classifier.Classifier });
        var colour = ml.MaskingEvaluation().EvaluateMaskColorDependence(test, new MaskColorDependenceOptions { Classifier = classifier.Classifier });
        // README Measuring missingness bias: end
        Console.WriteLine(shapeBias.ToCsv());
        Console.WriteLine(colour.ToCsv());
    }
}
