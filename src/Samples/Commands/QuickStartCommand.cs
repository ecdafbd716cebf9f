using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Training;

namespace Microsoft.ML.Masking.Samples.Commands;

/// <summary>The README's quick start, line for line (a test keeps the two the same).</summary>
public sealed class QuickStartCommand : ISampleCommand
{
    /// <inheritdoc/>
    public string Name => "quickstart";

    /// <inheritdoc/>
    public string Summary => "the README's quick start: train a shapes ResNet, remove each object, compare layer masking with grey and black paint";

    /// <inheritdoc/>
    public int Run(SampleArguments args)
    {
        args.EnsureAllUsed();
        // README Quick start: begin
        var ml = new MLContext(seed: 0);

        // Synthetic shapes: the class is the object's silhouette, and every image comes with the object's exact mask.
        var train = ml.Data.LoadShapes(new ShapesOptions { Count = 10_000, Seed = 1 });
        var test = ml.Data.LoadShapes(new ShapesOptions { Count = 1_000, Seed = 2 });

        // A small ResNet, trained like any ML.NET multiclass trainer (a few minutes on 2 cores).
        var classifier = ml.MulticlassClassification.Trainers.ResNet(new ResNetTrainer.Options
        {
            Architecture = new ResNetArchitecture { Layers = [1, 1, 1], BaseWidth = 16, SmallImageStem = true },
            Epochs = 10,
            BatchSize = 64,
            LearningRate = 0.05,
            HorizontalFlip = false,
        }).Fit(train);
        var clean = ml.MulticlassClassification.Evaluate(classifier.Transform(test));
        Console.WriteLine($"clean: accuracy {clean.MicroAccuracy:P1}");

        // Remove the whole object. Nothing of the class is left, so a masking without missingness bias should fall
        // towards chance (1 in 8); paint that draws the object's silhouette gives the class away.
        foreach (var method in new[] { MaskingMethod.LayerMasking, MaskingMethod.Grey, MaskingMethod.Black })
        {
            var removeObject = ml.Transforms.LayerMask("Score", classifier, maskColumnName: "ObjectMask", method: method, maskMarksRemoved: true);
            var model = removeObject.Fit(test);
            var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
            Console.WriteLine($"object removed, {method}: accuracy {metrics.MicroAccuracy:P1}");
            ml.Model.Save(model, test.Schema, $"remove-object-{method}.zip"); // loads in a fresh process with ml.Model.Load
        }
        // README Quick start: end
        return 0;
    }
}
