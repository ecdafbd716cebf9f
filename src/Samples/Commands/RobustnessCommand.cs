using Microsoft.ML.Masking.Core.Segmentation;
using System.Diagnostics;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Evaluation;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Training;
using Microsoft.ML.Runtime;
using TorchSharp;

namespace Microsoft.ML.Masking.Samples.Commands;

/// <summary>
/// Reproduces the layer-masking paper's missingness-bias measurements on a ResNet trained here: feature-removal
/// curves for every masking method (accuracy, predictions unchanged, class entropy), mask-colour dependence, and on
/// the shapes data (which has ground-truth object masks) mask-shape bias. Writes DIR/robustness.json, CSV files and
/// SVG plots.
/// </summary>
/// <remarks>
/// The model is DIR/model.zip under <c>--model</c> (default /work/models/&lt;dataset&gt; or
/// /work/models/&lt;dataset&gt;-resnet, where the <c>train</c> sample is run to save it). When the default directory has no model, a quick one is trained with
/// <c>mlContext.MulticlassClassification.Trainers.ResNet</c> with the <c>train</c> sample's quick preset and saved as
/// OUT/model.zip, which later runs reuse.
/// </remarks>
public sealed class RobustnessCommand : ISampleCommand
{
    private const string DefaultModelRoot = "/work/models";

    /// <inheritdoc/>
    public string Name => "robustness";

    /// <inheritdoc/>
    public string Summary =>
        "missingness bias of a trained ResNet (removal curves, colour dependence, shape bias); --dataset fashion-mnist|shapes --out DIR " +
        "[--model DIR (default /work/models/<dataset>)] [--quick] [--n IMAGES] [--patch P] [--segments patches|superpixels] [--repeats R] [--seed S] [--batch B]";

    /// <inheritdoc/>
    public int Run(SampleArguments args)
    {
        string dataset = args.String("dataset", "");
        string outDir = args.String("out", "");
        bool quick = args.Flag("quick");
        string? modelDir = args.Flag("model") ? args.String("model", "") : null;
        int n = args.Int("n", quick ? 300 : 2000);
        int patch = args.Int("patch", 4);
        string segments = args.String("segments", "patches");
        int repeats = args.Int("repeats", 1);
        int seed = args.Int("seed", 0);
        int batch = args.Int("batch", 128);
        args.EnsureAllUsed();
        if (dataset is not ("fashion-mnist" or "shapes"))
            throw new ArgumentException($"--dataset must be fashion-mnist or shapes, not '{dataset}'.");
        if (outDir.Length == 0)
            throw new ArgumentException("--out DIR is required: robustness.json, the CSV files and the plots go there.");
        if (segments is not ("patches" or "superpixels"))
            throw new ArgumentException($"--segments must be patches or superpixels, not '{segments}'.");
        Directory.CreateDirectory(outDir);

        var ml = new MLContext(seed);
        ml.Log += PrintProgress;
        var (classifier, modelSource) = LoadOrTrain(ml, dataset, modelDir, outDir);
        var test = TestData(ml, dataset, classifier.ImageShape, n);
        var segmentation = segments == "patches"
            ? new SegmentationOptions { Kind = SegmentationKind.Patches, PatchSize = patch }
            : new SegmentationOptions { Kind = SegmentationKind.Superpixels, SuperpixelCount = (classifier.ImageShape.Height / patch) * (classifier.ImageShape.Width / patch) };
        var evaluation = ml.MaskingEvaluation();
        var seconds = new JsonObject();
        var clock = Stopwatch.StartNew();

        var curves = evaluation.EvaluateFeatureRemoval(test, new FeatureRemovalOptions
        {
            Classifier = classifier.Classifier, Segmentation = segmentation, Repeats = repeats, Seed = seed, BatchSize = batch,
        });
        seconds["feature_removal"] = Math.Round(clock.Elapsed.TotalSeconds, 1);
        clock.Restart();
        var colours = evaluation.EvaluateMaskColorDependence(test, new MaskColorDependenceOptions
        {
            Classifier = classifier.Classifier, Segmentation = segmentation, Fraction = 0.5, Seed = seed, BatchSize = batch,
        });
        seconds["color_dependence"] = Math.Round(clock.Elapsed.TotalSeconds, 1);
        ShapeBiasResult? shapeBias = null;
        if (dataset == "shapes")
        {
            clock.Restart();
            shapeBias = evaluation.EvaluateShapeBias(test, new ShapeBiasOptions { Classifier = classifier.Classifier, Seed = seed, BatchSize = batch });
            seconds["shape_bias"] = Math.Round(clock.Elapsed.TotalSeconds, 1);
        }

        string segmentLabel = segmentation.ToString();
        string title = $"{dataset}, {segmentLabel}, n = {curves.RowCount}";
        curves.SaveCsv(Path.Combine(outDir, "curves.csv"));
        curves.SaveSvg(Path.Combine(outDir, "accuracy.svg"), FeatureRemovalMetric.Accuracy, $"Top-1 accuracy ({title})");
        curves.SaveSvg(Path.Combine(outDir, "unchanged.svg"), FeatureRemovalMetric.Unchanged, $"Predictions unchanged ({title})");
        curves.SaveSvg(Path.Combine(outDir, "class_entropy.svg"), FeatureRemovalMetric.ClassEntropy, $"Class entropy ({title})");
        colours.SaveCsv(Path.Combine(outDir, "color_dependence.csv"));
        shapeBias?.SaveCsv(Path.Combine(outDir, "shape_bias.csv"));

        var report = Report(dataset, quick, modelSource, classifier.Classifier, segmentLabel, curves, colours, shapeBias, seconds, Environment.GetCommandLineArgs());
        string path = Path.Combine(outDir, "robustness.json");
        File.WriteAllText(path, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        PrintSummary(curves, colours, shapeBias);
        Console.WriteLine($"wrote {path}, curves.csv, accuracy.svg, unchanged.svg, class_entropy.svg, color_dependence.csv{(shapeBias is null ? "" : ", shape_bias.csv")}");
        return 0;
    }

    private static (ResNetClassificationTransformer Classifier, string Source) LoadOrTrain(MLContext ml, string dataset, string? modelDir, string outDir)
    {
        // The train sample is run with --out /work/models/<dataset> or /work/models/<dataset>-resnet.
        string directory = modelDir ?? new[] { dataset, dataset + "-resnet" }.Select(d => Path.Combine(DefaultModelRoot, d))
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "model.zip"))) ?? Path.Combine(DefaultModelRoot, dataset);
        string path = Path.Combine(directory, "model.zip");
        if (!File.Exists(path))
        {
            if (modelDir is not null)
                throw new ArgumentException($"--model {modelDir}: no model.zip there (the train sample writes one).");
            path = Path.Combine(outDir, "model.zip");
        }
        if (File.Exists(path))
        {
            var loaded = ml.Model.Load(path, out _);
            var classifier = loaded as ResNetClassificationTransformer
                ?? (loaded as IEnumerable<ITransformer>)?.OfType<ResNetClassificationTransformer>().LastOrDefault()
                ?? throw new ArgumentException($"'{path}' holds no ResNet classifier.");
            Console.WriteLine($"robustness: loaded {path} ({classifier.ImageShape}, {classifier.ClassNames.Count} classes)");
            return (classifier, Path.GetFullPath(path));
        }

        Console.WriteLine($"robustness: no model in {directory}; training a quick one (saved as {path} for the next run)");
        // The train sample's quick preset, so the model evaluated here is the one `train --quick` makes.
        var recipe = dataset == "shapes"
            ? TrainCommand.ShapesRecipe(ml, imageSize: 32, quick: true)
            : TrainCommand.FashionMnistRecipe(ml, FashionMnist.DefaultDirectory, quick: true);
        var trained = ml.MulticlassClassification.Trainers.ResNet(recipe.Options(epochs: null, seed: 0, Environment.ProcessorCount, checkpointPath: null)).Fit(recipe.Train);
        ml.Model.Save(trained, recipe.Train.Schema, path);
        var accuracy = ml.MulticlassClassification.Evaluate(trained.Transform(recipe.Test)).MicroAccuracy;
        Console.WriteLine(FormattableString.Invariant($"robustness: quick model test accuracy {accuracy:F4}"));
        return (trained, FormattableString.Invariant(
            $"{Path.GetFullPath(path)} (train --quick preset: {recipe.TrainCount} images, {recipe.Epochs} epochs, test accuracy {accuracy:F4}; trained by this command)"));
    }

    /// <summary>The first <paramref name="n"/> test images: Fashion-MNIST's test split, or shapes drawn with the test seed.</summary>
    private static IDataView TestData(MLContext ml, string dataset, ImageShape shape, int n) => dataset == "shapes"
        ? ml.Data.LoadShapes(new ShapesOptions { ImageSize = shape.Height, Count = n, Seed = TrainCommand.ShapesTestSeed })
        : ml.Data.TakeRows(ml.Data.LoadFashionMnist(FashionMnistSplit.Test), n);

    /// <summary>robustness.json: the run's settings and every measured number (also written by <c>onnx-resnet18-bias</c>).</summary>
    internal static JsonObject Report(string dataset, bool quick, string modelSource, Core.ImageClassifier classifier, string segments,
        FeatureRemovalResult curves, MaskColorDependenceResult colours, ShapeBiasResult? shapeBias, JsonObject seconds, string[] commandLine)
    {
        static JsonNode? Number(double value) => double.IsFinite(value) ? Math.Round(value, 5) : null;
        static JsonArray Numbers(IEnumerable<double> values) => new(values.Select(Number).ToArray());

        var methods = new JsonObject();
        foreach (var curve in curves.Curves)
            methods[curve.Method.ToString()] = new JsonObject
            {
                ["accuracy"] = Numbers(curve.Points.Select(p => p.Accuracy)),
                ["accuracy_se"] = Numbers(curve.Points.Select(p => p.AccuracyStandardError)),
                ["unchanged"] = Numbers(curve.Points.Select(p => p.Unchanged)),
                ["unchanged_se"] = Numbers(curve.Points.Select(p => p.UnchangedStandardError)),
                ["class_entropy"] = Numbers(curve.Points.Select(p => p.ClassEntropy)),
                ["mean_accuracy"] = Number(curve.MeanAccuracy),
            };
        JsonObject Spread(MaskColorSpread s) => new()
        {
            ["agreement"] = Number(s.Agreement),
            ["agreement_se"] = Number(s.AgreementStandardError),
            ["mean_distinct_predictions"] = Number(s.MeanDistinctPredictions),
            ["probability_spread"] = Number(s.ProbabilitySpread),
            ["probability_spread_se"] = Number(s.ProbabilitySpreadStandardError),
            ["accuracy_by_fill"] = new JsonObject(s.AccuracyByFill.Select(kv => KeyValuePair.Create(kv.Key, Number(kv.Value)))),
        };
        var colourReport = new JsonObject { ["fraction"] = colours.Fraction, [MaskColorDependenceResult.PaintedInputName] = Spread(colours.PaintedInput) };
        foreach (var spread in colours.Methods)
            colourReport[spread.Name] = Spread(spread);

        var report = new JsonObject
        {
            ["dataset"] = dataset,
            ["quick"] = quick,
            ["model"] = modelSource,
            ["architecture"] = classifier.Architecture is { } architecture ? JsonNode.Parse(architecture.ToJson()) : classifier.Network.GetName(),
            ["image_shape"] = classifier.ImageShape.ToString(),
            ["images"] = curves.RowCount,
            ["segments"] = segments,
            ["mean_segments_per_image"] = Number(curves.MeanSegmentCount),
            ["repeats"] = curves.Repeats,
            ["clean_accuracy"] = Number(curves.CleanAccuracy),
            ["fractions"] = Numbers(curves.Fractions),
            ["pixels_removed"] = Numbers(curves.Curves[0].Points.Select(p => p.PixelsRemoved)),
            ["methods"] = methods,
            ["color_dependence"] = colourReport,
        };
        if (shapeBias is not null)
        {
            report["shape_bias"] = new JsonObject(shapeBias.Methods.Select(m => KeyValuePair.Create(m.Method.ToString(), (JsonNode?)new JsonObject
            {
                ["object"] = Number(m.ObjectRemovedAccuracy),
                ["broken"] = Number(m.BrokenShapeAccuracy),
                ["object_se"] = Number(m.ObjectRemovedStandardError),
                ["broken_se"] = Number(m.BrokenShapeStandardError),
            })));
            report["shape_bias_images"] = shapeBias.EvaluatedCount;
            report["shape_bias_mean_object_fraction"] = Number(shapeBias.MeanObjectFraction);
        }
        report["seconds"] = seconds;
        report["command"] = "dotnet run -c Release --project src/Samples -- " + string.Join(' ', commandLine.Skip(1));
        report["machine"] = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, torch threads {torch.get_num_threads()}";
        report["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture);
        return report;
    }

    /// <summary>The measured numbers as console tables.</summary>
    internal static void PrintSummary(FeatureRemovalResult curves, MaskColorDependenceResult colours, ShapeBiasResult? shapeBias)
    {
        Console.WriteLine($"\nclean accuracy {curves.CleanAccuracy:F3} on {curves.RowCount} images; accuracy (predictions unchanged) by fraction of segments removed:");
        Console.WriteLine($"{"method",-18}" + string.Concat(curves.Fractions.Select(f => $"{f,13:0.0}")));
        foreach (var curve in curves.Curves)
            Console.WriteLine($"{curve.Method,-18}" + string.Concat(curve.Points.Select(p => $"{p.Accuracy,6:0.000} ({p.Unchanged:0.00})")));
        Console.WriteLine($"\nmask colour ({string.Join(", ", colours.Fills)}), {colours.Fraction:0.0} removed: agreement across fills, mean probability spread");
        foreach (var s in new[] { colours.PaintedInput }.Concat(colours.Methods))
            Console.WriteLine($"{s.Name,-18}{s.Agreement,8:0.000}{s.ProbabilitySpread,8:0.000}");
        if (shapeBias is null) return;
        Console.WriteLine($"\nshape bias on {shapeBias.EvaluatedCount} correctly classified images: accuracy with the object removed / with the broken (rolled) mask");
        foreach (var m in shapeBias.Methods)
            Console.WriteLine($"{m.Method,-18}{m.ObjectRemovedAccuracy,8:0.000} / {m.BrokenShapeAccuracy:0.000}");
    }

    private static void PrintProgress(object? sender, LoggingEventArgs e)
    {
        if (e.Kind == ChannelMessageKind.Info && (e.Source.Contains(nameof(MaskingEvaluationCatalog), StringComparison.Ordinal) || e.Source.StartsWith("ResNetTrainer", StringComparison.Ordinal)))
            Console.WriteLine($"{DateTime.Now:HH:mm:ss} {e.RawMessage}");
    }
}
