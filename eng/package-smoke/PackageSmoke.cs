// What `./build.sh package` runs in a fresh console project that references the packed Microsoft.ML.Masking by id and
// version (eng/package.sh). Only the public API, as a team consuming the package would use it: load data, train,
// layer-mask, evaluate, save, load, and check that the reloaded model scores identically.
// src/Samples compiles this file too, so a change of the public API that breaks it fails the ordinary build.
using System.Reflection;
using Microsoft.ML.Data;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Training;

namespace Microsoft.ML.Masking.PackageSmoke;

internal static class PackageSmokeTest
{
    /// <summary>Runs the pipeline, saving the model into <paramref name="folder"/>; throws if anything is off.</summary>
    public static void Run(string folder)
    {
        var ml = new MLContext(seed: 0);
        Console.WriteLine($"ML.NET {Release(typeof(MLContext).Assembly)}, Microsoft.ML.Masking {Release(typeof(ResNetTrainer).Assembly)}");

        var train = ml.Data.LoadShapes(new ShapesOptions { Count = 320, Seed = 1 });
        var test = ml.Data.LoadShapes(new ShapesOptions { Count = 64, Seed = 2 });

        var classifier = ml.MulticlassClassification.Trainers.ResNet(new ResNetTrainer.Options
        {
            Architecture = new ResNetArchitecture { Layers = [1, 1, 1], BaseWidth = 8, SmallImageStem = true },
            Epochs = 1,
            BatchSize = 32,
            LearningRate = 0.05,
            HorizontalFlip = false,
        }).Fit(train);

        var model = ml.Transforms.LayerMask("Score", classifier, maskColumnName: "ObjectMask", method: MaskingMethod.LayerMasking, maskMarksRemoved: true).Fit(test);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
        Console.WriteLine($"trained 1 epoch on {train.GetRowCount()} images; object removed: accuracy {metrics.MicroAccuracy:P1} on {test.GetRowCount()}");

        string path = Path.Combine(folder, "layer-mask.zip");
        ml.Model.Save(model, test.Schema, path);
        var loaded = new MLContext(seed: 0).Model.Load(path, out _);

        float[][] before = Scores(model.Transform(test));
        float[][] after = Scores(loaded.Transform(test));
        if (before.Length != after.Length || before.Length == 0)
            throw new InvalidOperationException($"Row counts differ: {before.Length} before saving, {after.Length} after loading.");
        for (int row = 0; row < before.Length; row++)
            if (!before[row].SequenceEqual(after[row]))
                throw new InvalidOperationException($"Row {row}: the reloaded model scores differently.");
        Console.WriteLine($"saved and reloaded {path}: identical scores on {before.Length} rows");
    }

    private static float[][] Scores(IDataView data) =>
        data.GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();

    private static string? Release(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0];
}
