using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Masking.Samples.Commands;

/// <summary>
/// Trains a ResNet with <c>mlContext.MulticlassClassification.Trainers.ResNet</c> on Fashion-MNIST or the synthetic
/// shapes, evaluates it on the test split with <c>mlContext.MulticlassClassification.Evaluate</c>, saves the model
/// (DIR/model.zip, loadable with <c>mlContext.Model.Load</c>) and writes DIR/train.json and the training curves
/// (DIR/training_accuracy.svg, training_loss.svg, training.csv). For shapes it also trains
/// a linear baseline (multinomial logistic regression on the raw pixels) to show the task needs more than a linear model.
/// A checkpoint (DIR/training.ckpt) is written every epoch; rerunning the same command resumes from it.
/// </summary>
public sealed class TrainCommand : ISampleCommand
{
    /// <inheritdoc/>
    public string Name => "train";

    /// <inheritdoc/>
    public string Summary =>
        "train a ResNet and evaluate it; --dataset fashion-mnist|shapes --out DIR [--quick] [--epochs N] [--threads N] [--seed N] " +
        "[--data DIR (Fashion-MNIST files)] [--image-size 32|64 (shapes)]";

    /// <summary>What to train on and how: the data, the network, the epoch budget and the optimisation settings.</summary>
    internal sealed record Recipe(
        string Dataset, IDataView Train, IDataView Test, int TrainCount, ResNetArchitecture Architecture, int Epochs,
        int BatchSize, double LearningRate, int RandomCropPadding, bool HorizontalFlip)
    {
        /// <summary>The trainer's options for this recipe (<paramref name="epochs"/> overrides the budget when given).</summary>
        public ResNetTrainer.Options Options(int? epochs, int seed, int threads, string? checkpointPath) => new()
        {
            Architecture = Architecture,
            Epochs = epochs ?? Epochs,
            BatchSize = BatchSize,
            LearningRate = LearningRate,
            RandomCropPadding = RandomCropPadding,
            HorizontalFlip = HorizontalFlip,
            Seed = seed,
            NumberOfThreads = threads,
            CheckpointPath = checkpointPath,
        };
    }

    /// <inheritdoc/>
    public int Run(SampleArguments args)
    {
        string dataset = args.String("dataset", "");
        string outDir = args.String("out", "");
        bool quick = args.Flag("quick");
        int? epochs = args.Int("epochs", 0) is > 0 and var e ? e : null;
        int threads = args.Int("threads", Environment.ProcessorCount);
        int seed = args.Int("seed", 0);
        string dataDir = args.String("data", FashionMnist.DefaultDirectory);
        int imageSize = args.Int("image-size", 32);
        args.EnsureAllUsed();
        if (outDir.Length == 0)
            throw new ArgumentException("--out DIR is required: the model, checkpoint and train.json go there.");

        var ml = new MLContext(seed);
        var recipe = dataset switch
        {
            "fashion-mnist" => FashionMnistRecipe(ml, dataDir, quick),
            "shapes" => ShapesRecipe(ml, imageSize, quick),
            _ => throw new ArgumentException($"--dataset must be fashion-mnist or shapes, not '{dataset}'."),
        };
        Directory.CreateDirectory(outDir);

        var options = recipe.Options(epochs, seed, threads, Path.Combine(outDir, "training.ckpt"));
        ml.Log += PrintTrainerProgress;

        Console.WriteLine($"train: {recipe.Dataset}{(quick ? " (quick)" : "")}, {recipe.TrainCount} training images, {options.Epochs} epochs, {threads} thread(s)");
        var watch = Stopwatch.StartNew();
        var model = ml.MulticlassClassification.Trainers.ResNet(options).Fit(recipe.Train);
        var trainingTime = watch.Elapsed;
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(recipe.Test));
        Console.WriteLine($"test accuracy {metrics.MicroAccuracy:F4} (macro {metrics.MacroAccuracy:F4}, log-loss {metrics.LogLoss:F4}), training {trainingTime:hh\\:mm\\:ss}");

        string modelPath = Path.Combine(outDir, "model.zip");
        ml.Model.Save(model, recipe.Train.Schema, modelPath);
        model.TrainingHistory.SaveSvg(Path.Combine(outDir, "training_accuracy.svg"), ResNetTrainingMetric.Accuracy);
        model.TrainingHistory.SaveSvg(Path.Combine(outDir, "training_loss.svg"), ResNetTrainingMetric.Loss);
        model.TrainingHistory.SaveCsv(Path.Combine(outDir, "training.csv"));

        var report = new JsonObject
        {
            ["dataset"] = recipe.Dataset,
            ["quick"] = quick,
            ["test_accuracy"] = metrics.MicroAccuracy,
            ["test_macro_accuracy"] = metrics.MacroAccuracy,
            ["test_log_loss"] = metrics.LogLoss,
            ["epochs"] = model.TrainingHistory.Count,
            ["images_per_second"] = TrainingThroughput(model.TrainingHistory, recipe.TrainCount, options.BatchSize),
            ["training_wall_time_seconds"] = Math.Round(trainingTime.TotalSeconds, 1),
            ["train_images"] = recipe.TrainCount,
            ["test_images"] = (long)metrics.ConfusionMatrix.Counts.Sum(row => row.Sum()),
            ["image_shape"] = model.ImageShape.ToString(),
            ["classes"] = new JsonArray(model.ClassNames.Select(c => (JsonNode)c).ToArray()),
            ["architecture"] = JsonNode.Parse(model.ResNet.Architecture.ToJson()),
            ["parameters"] = model.ResNet.parameters().Sum(p => p.numel()),
            ["options"] = new JsonObject
            {
                ["optimizer"] = options.Optimizer.ToString(), ["learning_rate"] = options.LearningRate, ["momentum"] = options.Momentum,
                ["nesterov"] = options.Nesterov, ["weight_decay"] = options.WeightDecay, ["schedule"] = options.Schedule.ToString(),
                ["warmup_epochs"] = options.WarmupEpochs, ["batch_size"] = options.BatchSize, ["random_crop_padding"] = options.RandomCropPadding,
                ["horizontal_flip"] = options.HorizontalFlip, ["random_erasing_probability"] = options.RandomErasingProbability,
                ["label_smoothing"] = options.LabelSmoothing, ["seed"] = seed, ["threads"] = threads,
            },
            ["history"] = new JsonArray(model.TrainingHistory.Select(h => (JsonNode)new JsonObject
            {
                ["epoch"] = h.Epoch, ["loss"] = Round(h.TrainingLoss), ["accuracy"] = Round(h.TrainingAccuracy),
                ["images_per_second"] = Math.Round(h.ImagesPerSecond), ["learning_rate"] = Round(h.LearningRate),
                ["seconds"] = Math.Round(h.Duration.TotalSeconds, 1),
            }).ToArray()),
            ["model"] = Path.GetFullPath(modelPath),
            ["machine"] = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}",
            ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture),
        };
        if (recipe.Dataset == "shapes")
            report["linear_baseline"] = LinearBaseline(ml, recipe, maxImages: quick ? 2_000 : 10_000);

        string reportPath = Path.Combine(outDir, "train.json");
        File.WriteAllText(reportPath, report.ToJsonString(new JsonSerializerOptions
        {
            WriteIndented = true,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }));
        Console.WriteLine($"wrote {modelPath}, {reportPath} and the training curves (training_accuracy.svg, training_loss.svg, training.csv)");
        return 0;
    }

    /// <summary>
    /// Fashion-MNIST. Full: four stages of two basic blocks, 16–128 channels (0.7 M parameters), a small-image
    /// ResNet-18, for 40 epochs on all 60,000 images. Quick: the quick start's three one-block stages (16–64
    /// channels) for a few epochs on part of the training set, enough for a usable model (≥ 85 %) in minutes.
    /// Fashion-MNIST keeps its black border under a 2-pixel crop; mirrored clothes are still the same class.
    /// </summary>
    internal static Recipe FashionMnistRecipe(MLContext ml, string directory, bool quick)
    {
        var train = ml.Data.LoadFashionMnist(FashionMnistSplit.Train, directory);
        var test = ml.Data.LoadFashionMnist(FashionMnistSplit.Test, directory);
        int trainCount = quick ? QuickFashionMnistImages : (int)train.GetRowCount()!.Value;
        return quick
            ? new Recipe("fashion-mnist", ml.Data.TakeRows(train, trainCount), test, trainCount,
                new ResNetArchitecture { Layers = [1, 1, 1], BaseWidth = 16, SmallImageStem = true },
                Epochs: QuickFashionMnistEpochs, BatchSize: 64, LearningRate: 0.05, RandomCropPadding: 2, HorizontalFlip: true)
            : new Recipe("fashion-mnist", train, test, trainCount,
                new ResNetArchitecture { Layers = [2, 2, 2, 2], BaseWidth = 16, SmallImageStem = true },
                Epochs: 40, BatchSize: 128, LearningRate: 0.1, RandomCropPadding: 2, HorizontalFlip: true);
    }

    /// <summary>
    /// Synthetic shapes. Full: the small-image ResNet-18 for 30 epochs on 30,000 images. Quick: the quick start's
    /// network and settings (three one-block stages, batches of 64, learning rate 0.05, no mirroring) on fewer
    /// images and epochs, enough for a usable model (≥ 90 %) in minutes.
    /// </summary>
    internal static Recipe ShapesRecipe(MLContext ml, int imageSize, bool quick)
    {
        int trainCount = quick ? QuickShapesImages : 30_000;
        // Training and test sets are independent draws (different seeds) of the same generator.
        var train = ml.Data.LoadShapes(new ShapesOptions { ImageSize = imageSize, Count = trainCount, Seed = ShapesTrainSeed });
        var test = ml.Data.LoadShapes(new ShapesOptions { ImageSize = imageSize, Count = quick ? 1_000 : 5_000, Seed = ShapesTestSeed });
        return quick
            ? new Recipe("shapes", train, test, trainCount,
                new ResNetArchitecture { Layers = [1, 1, 1], BaseWidth = 16, SmallImageStem = true },
                Epochs: QuickShapesEpochs, BatchSize: 64, LearningRate: 0.05, RandomCropPadding: imageSize / 8, HorizontalFlip: false)
            : new Recipe("shapes", train, test, trainCount,
                new ResNetArchitecture { Layers = [2, 2, 2, 2], BaseWidth = 16, SmallImageStem = true },
                Epochs: 30, BatchSize: 128, LearningRate: 0.1, RandomCropPadding: imageSize / 8, HorizontalFlip: true);
    }

    /// <summary>The quick presets' budgets (docs/results.md gives what they reach, measured).</summary>
    internal const int QuickShapesImages = 10_000, QuickShapesEpochs = 10, QuickFashionMnistImages = 20_000, QuickFashionMnistEpochs = 6;

    /// <summary>Seeds of the shapes training and test draws (the robustness sample evaluates on the same test draw).</summary>
    internal const long ShapesTrainSeed = 1, ShapesTestSeed = 2;

    /// <summary>
    /// Multinomial logistic regression (L-BFGS) on the raw pixels: the same training images (at most
    /// <paramref name="maxImages"/>, to keep it to minutes; 2,000 for the quick preset) and the same test set, for three L2 strengths. Training accuracy is reported beside test accuracy,
    /// so a low test score cannot be mistaken for a solver that stopped early. Picking the best strength by its test
    /// score favours the baseline, which only makes "a linear model does not solve it" a safer claim.
    /// </summary>
    private static JsonObject LinearBaseline(MLContext ml, Recipe recipe, int maxImages)
    {
        int count = Math.Min(recipe.TrainCount, maxImages);
        var train = ml.Data.Cache(ml.Data.TakeRows(recipe.Train, count));
        var runs = new JsonArray();
        double bestTest = 0;
        foreach (float l2 in new[] { 1e-4f, 1e-2f, 1f })
        {
            Console.WriteLine($"linear baseline: LbfgsMaximumEntropy on the raw pixels of {count} training images, L2 {l2}");
            var watch = Stopwatch.StartNew();
            var linear = ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(
                labelColumnName: "Label", featureColumnName: "Image", l1Regularization: 0f, l2Regularization: l2).Fit(train);
            double seconds = watch.Elapsed.TotalSeconds;
            double trainAccuracy = ml.MulticlassClassification.Evaluate(linear.Transform(train)).MicroAccuracy;
            double testAccuracy = ml.MulticlassClassification.Evaluate(linear.Transform(recipe.Test)).MicroAccuracy;
            Console.WriteLine($"  accuracy: train {trainAccuracy:F4}, test {testAccuracy:F4} ({seconds:F0} s)");
            bestTest = Math.Max(bestTest, testAccuracy);
            runs.Add(new JsonObject
            {
                ["l2"] = l2, ["train_accuracy"] = trainAccuracy, ["test_accuracy"] = testAccuracy, ["seconds"] = Math.Round(seconds, 1),
            });
        }
        return new JsonObject
        {
            ["trainer"] = "LbfgsMaximumEntropy (raw pixels)",
            ["train_images"] = count,
            ["best_test_accuracy"] = bestTest,
            ["runs"] = runs,
        };
    }

    /// <summary>All training images over all training time: batches are full, the last partial batch is dropped.</summary>
    private static double TrainingThroughput(IReadOnlyList<ResNetEpochReport> history, int trainCount, int batchSize)
    {
        double imagesPerEpoch = trainCount / batchSize * batchSize;
        double seconds = history.Sum(h => imagesPerEpoch / h.ImagesPerSecond);
        return Math.Round(history.Count * imagesPerEpoch / seconds, 1);
    }

    private static double Round(double value) => Math.Round(value, 5);

    private static void PrintTrainerProgress(object? sender, LoggingEventArgs e)
    {
        if (!e.Source.StartsWith("ResNetTrainer", StringComparison.Ordinal))
            return;
        if (e.Kind == ChannelMessageKind.Info || (e.Kind == ChannelMessageKind.Trace && e.RawMessage.Contains(": batch ", StringComparison.Ordinal)))
            Console.WriteLine($"{DateTime.Now:HH:mm:ss} {e.RawMessage}");
    }
}
