using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Training;

namespace Microsoft.ML.Masking.Samples.Models;

/// <summary>
/// A ResNet that recognises the synthetic shapes, for samples that need a trained network: read from a model.zip
/// (as written by the <c>train</c> sample) or, without one, trained here in about a minute.
/// </summary>
public static class ShapesClassifier
{
    /// <summary>Seed of the images the quick model trains on.</summary>
    public const long TrainSeed = 1;

    /// <summary>Seed of the images samples evaluate on (never trained on).</summary>
    public const long TestSeed = 2;

    /// <summary>
    /// Loads the classifier from <paramref name="modelPath"/> when that file exists; otherwise trains a small one and,
    /// when <paramref name="modelPath"/> is given, saves it there for the next run.
    /// </summary>
    /// <param name="ml">The context (its log shows training progress).</param>
    /// <param name="modelPath">A model.zip holding a <see cref="ResNetClassificationTransformer"/>, or null.</param>
    /// <param name="imageSize">Side of the shapes images.</param>
    /// <param name="log">Where to say what is happening.</param>
    public static ResNetClassificationTransformer LoadOrTrain(MLContext ml, string? modelPath, int imageSize, Action<string> log)
    {
        if (modelPath is not null && File.Exists(modelPath))
        {
            var loaded = ml.Model.Load(modelPath, out _);
            var classifier = Find(loaded) ?? throw new ArgumentException($"'{modelPath}' holds no ResNet classifier.");
            log($"loaded {modelPath}: {string.Join(", ", classifier.ClassNames)}");
            return classifier;
        }
        log("training a small ResNet on 10,000 shapes images (a few minutes on 2 cores; saved for the next run)");
        var train = ml.Data.LoadShapes(new ShapesOptions { ImageSize = imageSize, Count = 10_000, Seed = TrainSeed });
        var trainer = ml.MulticlassClassification.Trainers.ResNet(new ResNetTrainer.Options
        {
            Architecture = new ResNetArchitecture { Layers = [1, 1, 1], BaseWidth = 16, SmallImageStem = true },
            Epochs = 10,
            BatchSize = 64,
            LearningRate = 0.05,
            HorizontalFlip = false,
            Seed = 1,
        });
        // The trainer reports each epoch on its ML.NET channel; show those messages while it runs.
        EventHandler<LoggingEventArgs> progress = (_, e) =>
        {
            if (e.Kind == Runtime.ChannelMessageKind.Info && e.Source.Contains("ResNet", StringComparison.Ordinal))
                log(e.RawMessage);
        };
        ml.Log += progress;
        ResNetClassificationTransformer model;
        try { model = trainer.Fit(train); }
        finally { ml.Log -= progress; }
        if (modelPath is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(modelPath))!);
            ml.Model.Save(model, train.Schema, modelPath);
            log($"saved {modelPath}");
        }
        return model;
    }

    private static ResNetClassificationTransformer? Find(ITransformer transformer) => transformer switch
    {
        ResNetClassificationTransformer classifier => classifier,
        IEnumerable<ITransformer> chain => chain.Select(Find).LastOrDefault(c => c is not null),
        _ => null,
    };
}
