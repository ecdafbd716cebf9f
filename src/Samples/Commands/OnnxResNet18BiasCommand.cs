using System.Diagnostics;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Segmentation;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Evaluation;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Trainers;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Samples.Commands;

/// <summary>
/// The paper's setting on a real ImageNet-pretrained network: ML.NET's ResNet-18 (<see cref="ImageClassifier.FromOnnxResNet18"/>)
/// as a frozen backbone, a linear head trained with ML.NET's LbfgsMaximumEntropy on its layer-masked features (all
/// pixels kept), then the missingness-bias evaluation of the backbone + head: feature-removal curves (accuracy,
/// predictions unchanged), mask-colour dependence and, on the shapes data, mask-shape bias, for layer masking against
/// grey and black paint. Images are 224×224 (the network's input): shapes rendered at 224, Fashion-MNIST upsampled
/// bilinearly from 28×28 and repeated over three channels. Writes DIR/robustness.json (the robustness sample's
/// format plus the head's training), CSV files and SVG plots.
/// </summary>
public sealed class OnnxResNet18BiasCommand : ISampleCommand
{
    private const int Side = 224;
    private static readonly MaskingMethod[] Methods = [MaskingMethod.LayerMasking, MaskingMethod.Grey, MaskingMethod.Black];

    /// <inheritdoc/>
    public string Name => "onnx-resnet18-bias";

    /// <inheritdoc/>
    public string Summary =>
        "missingness bias of ML.NET's pretrained ResNet-18 + a linear head (LbfgsMaximumEntropy on its features); --dataset shapes|fashion-mnist --out DIR " +
        "[--train N (1000)] [--test N (100)] [--patch P (16)] [--batch B (16)] [--seed S]";

    /// <inheritdoc/>
    public int Run(SampleArguments args)
    {
        string dataset = args.String("dataset", "");
        string outDir = args.String("out", "");
        int trainCount = args.Int("train", 1000);
        int testCount = args.Int("test", 100);
        int patch = args.Int("patch", 16);
        int batch = args.Int("batch", 16);
        int seed = args.Int("seed", 0);
        string? modelDirectory = args.Flag("models") ? args.String("models", "") : null;
        args.EnsureAllUsed();
        if (dataset is not ("fashion-mnist" or "shapes"))
            throw new ArgumentException($"--dataset must be fashion-mnist or shapes, not '{dataset}'.");
        if (outDir.Length == 0)
            throw new ArgumentException("--out DIR is required: robustness.json, the CSV files and the plots go there.");
        Directory.CreateDirectory(outDir);

        var ml = new MLContext(seed);
        var clock = Stopwatch.StartNew();
        var seconds = new JsonObject();
        // The library's loaders give pixels in 0–1; the classifier's normalisation rescales them to the network's 0–255.
        var backbone = ImageClassifier.FromOnnxResNet18(modelDirectory, pixelMaximum: 1f);
        var (train, test) = Data(ml, dataset, trainCount, testCount);

        // 1. Features: LayerMask with every pixel kept, on the headless backbone, writes the 512 pooled features.
        var featurize = ml.Transforms.PatchGridMask("Mask", "Image", patchSize: patch, removeFraction: 0)
            .Append(ml.Transforms.LayerMask(new LayerMaskingOptions
            {
                Classifier = backbone, ImageColumnName = "Image", MaskColumnName = "Mask", ScoreColumnName = "Features", BatchSize = batch,
            }));
        var featurizer = featurize.Fit(train);
        var trainFeatures = ml.Data.Cache(ml.Transforms.SelectColumns("Label", "Features").Fit(featurizer.Transform(train)).Transform(featurizer.Transform(train)));
        var trainer = ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(labelColumnName: "Label", featureColumnName: "Features");
        var head = trainer.Fit(trainFeatures);
        seconds["features_and_head"] = Math.Round(clock.Elapsed.TotalSeconds, 1);
        var headTest = ml.MulticlassClassification.Evaluate(head.Transform(featurizer.Transform(test)), labelColumnName: "Label");
        Console.WriteLine(FormattableString.Invariant($"onnx-resnet18-bias: linear head on {trainCount} images, test accuracy {headTest.MicroAccuracy:F4} on {testCount} ({clock.Elapsed.TotalSeconds:F0} s)"));

        // 2. The head on the backbone: one ImageClassifier (the imported network with the trained head as a Gemm after it), evaluated as any other.
        VBuffer<float>[] weights = [];
        head.Model.GetWeights(ref weights, out int classCount);
        var classNames = KeyValueAnnotations.Read(train.Schema["Label"]) ?? throw new InvalidOperationException("The label column has no key values.");
        var classifier = backbone.WithLinearHead(weights.Select(w => w.DenseValues().ToArray()).ToArray(), head.Model.GetBiases().ToArray(), classNames);

        var segmentation = new SegmentationOptions { Kind = SegmentationKind.Patches, PatchSize = patch };
        var evaluation = ml.MaskingEvaluation();
        ml.Log += (_, e) =>
        {
            if (e.Kind == Runtime.ChannelMessageKind.Info && e.Source.Contains(nameof(MaskingEvaluationCatalog), StringComparison.Ordinal))
                Console.WriteLine($"{DateTime.Now:HH:mm:ss} {e.RawMessage}");
        };
        clock.Restart();
        var curves = evaluation.EvaluateFeatureRemoval(test, new FeatureRemovalOptions
        {
            Classifier = classifier, Methods = Methods, Fractions = [0, 0.1, 0.3, 0.5, 0.7, 0.9], Segmentation = segmentation, Seed = seed, BatchSize = batch,
        });
        seconds["feature_removal"] = Math.Round(clock.Elapsed.TotalSeconds, 1);
        clock.Restart();
        var colours = evaluation.EvaluateMaskColorDependence(test, new MaskColorDependenceOptions
        {
            Classifier = classifier, Methods = [MaskingMethod.LayerMasking], Segmentation = segmentation, Fraction = 0.5, Seed = seed, BatchSize = batch,
        });
        seconds["color_dependence"] = Math.Round(clock.Elapsed.TotalSeconds, 1);
        ShapeBiasResult? shapeBias = null;
        if (dataset == "shapes")
        {
            clock.Restart();
            shapeBias = evaluation.EvaluateShapeBias(test, new ShapeBiasOptions { Classifier = classifier, Methods = Methods, Seed = seed, BatchSize = batch });
            seconds["shape_bias"] = Math.Round(clock.Elapsed.TotalSeconds, 1);
        }

        string title = $"ML.NET ResNet-18 + linear head, {dataset} at {Side}, {segmentation}, n = {curves.RowCount}";
        curves.SaveCsv(Path.Combine(outDir, "curves.csv"));
        curves.SaveSvg(Path.Combine(outDir, "accuracy.svg"), FeatureRemovalMetric.Accuracy, $"Top-1 accuracy ({title})");
        curves.SaveSvg(Path.Combine(outDir, "unchanged.svg"), FeatureRemovalMetric.Unchanged, $"Predictions unchanged ({title})");
        colours.SaveCsv(Path.Combine(outDir, "color_dependence.csv"));
        shapeBias?.SaveCsv(Path.Combine(outDir, "shape_bias.csv"));

        string source = $"ML.NET ImageNet ResNet-18 (Microsoft.ML.DnnImageFeaturizer.ResNet18, ONNX) + LbfgsMaximumEntropy head on {trainCount} images";
        var report = RobustnessCommand.Report(dataset, quick: false, source, classifier, segmentation.ToString(), curves, colours, shapeBias, seconds, Environment.GetCommandLineArgs());
        report["head"] = new JsonObject
        {
            ["trainer"] = "LbfgsMaximumEntropy (ML.NET defaults: L1 1, L2 1)",
            ["features"] = "LayerMask, every pixel kept: the backbone's 512 pooled features",
            ["train_images"] = trainCount,
            ["classes"] = classCount,
            ["test_micro_accuracy_mlnet"] = Math.Round(headTest.MicroAccuracy, 5),
            ["test_log_loss_mlnet"] = Math.Round(headTest.LogLoss, 5),
        };
        string path = Path.Combine(outDir, "robustness.json");
        File.WriteAllText(path, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        RobustnessCommand.PrintSummary(curves, colours, shapeBias);
        Console.WriteLine($"wrote {path}, curves.csv, accuracy.svg, unchanged.svg, color_dependence.csv{(shapeBias is null ? "" : ", shape_bias.csv")}");
        classifier.Network.Dispose();
        backbone.Network.Dispose();
        return 0;
    }

    /// <summary>Training rows and test rows at 224×224: shapes rendered at that size, or Fashion-MNIST upsampled.</summary>
    private static (IDataView Train, IDataView Test) Data(MLContext ml, string dataset, int trainCount, int testCount)
    {
        if (dataset == "shapes")
            return (ml.Data.LoadShapes(new ShapesOptions { ImageSize = Side, Count = trainCount, Seed = TrainCommand.ShapesTrainSeed }),
                    ml.Data.LoadShapes(new ShapesOptions { ImageSize = Side, Count = testCount, Seed = TrainCommand.ShapesTestSeed }));
        return (Upsampled(ml.Data.TakeRows(ml.Data.LoadFashionMnist(FashionMnistSplit.Train), trainCount)),
                Upsampled(ml.Data.TakeRows(ml.Data.LoadFashionMnist(FashionMnistSplit.Test), testCount)));
    }

    private sealed record GreyImage(float[] Pixels, int Label);

    /// <summary>
    /// Fashion-MNIST rows as 3×224×224 images: each 28×28 image upsampled bilinearly (as ResizeImages would) and
    /// repeated over the three channels, rendered when a cursor reads the row; the label keeps its key values.
    /// </summary>
    private static IDataView Upsampled(IDataView source)
    {
        var labelColumn = source.Schema["Label"];
        var classNames = KeyValueAnnotations.Read(labelColumn) ?? throw new InvalidOperationException("Fashion-MNIST's label has no key values.");
        var rows = new List<GreyImage>();
        using (var cursor = source.GetRowCursor(source.Schema))
        {
            var image = cursor.GetGetter<VBuffer<float>>(source.Schema["Image"]);
            var label = cursor.GetGetter<uint>(labelColumn);
            VBuffer<float> pixels = default;
            uint key = 0;
            while (cursor.MoveNext())
            {
                image(ref pixels);
                label(ref key);
                rows.Add(new GreyImage(pixels.DenseValues().ToArray(), (int)key - 1));
            }
        }
        return new IndexedDataView<GreyImage>(rows.Count, i => rows[(int)i],
        [
            IndexedColumn<GreyImage>.FloatTensor("Image", [3, Side, Side], (row, destination) =>
            {
                using var scope = NewDisposeScope();
                int side = (int)Math.Sqrt(row.Pixels.Length);
                var big = nn.functional.interpolate(tensor(row.Pixels, [1, 1, side, side]), size: [Side, Side], mode: InterpolationMode.Bilinear, align_corners: false);
                var plane = big.contiguous().data<float>().ToArray();
                for (int c = 0; c < 3; c++)
                    plane.CopyTo(destination.Slice(c * Side * Side, Side * Side));
            }),
            IndexedColumn<GreyImage>.ClassKey("Label", classNames, row => row.Label),
        ]);
    }
}
