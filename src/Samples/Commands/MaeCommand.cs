using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core.Batching;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Pretraining;
using Microsoft.ML.Masking.Samples.Reports;

namespace Microsoft.ML.Masking.Samples.Commands;

/// <summary>
/// Pre-trains a masked autoencoder with <c>mlContext.Transforms.PretrainMaskedAutoencoder</c> (random or adversarial
/// masking) on Fashion-MNIST or the synthetic shapes, then measures its embeddings on the test split: a linear probe
/// (<c>LbfgsMaximumEntropy</c> on the embeddings), k-nearest-neighbour accuracy (cosine, k = 20), and the mask
/// diagnostics. Writes DIR/mae.json and pictures of masks, reconstructions and score maps (DIR/mae_examples.png).
/// </summary>
public sealed class MaeCommand : ISampleCommand
{
    /// <inheritdoc/>
    public string Name => "mae";

    /// <inheritdoc/>
    public string Summary =>
        "pre-train a masked autoencoder and probe its embeddings; --dataset fashion-mnist|shapes --masking random|adversarial --seed N --out DIR [--quick] " +
        "[--epochs N] [--train N] [--alpha X] [--lambda X] [--objective maximize|seed-literal] [--rule top|threshold|mean] [--threads N]";

    private const int NeighbourCount = 20;

    /// <summary>The network of <c>--quick</c> (and <c>mae-bench --quick</c>): encoder 4 × 64, decoder 1 × 32, 4 px patches (channels and image size come from the data).</summary>
    internal static MaskedAutoencoderArchitecture QuickArchitecture() =>
        new() { PatchSize = 4, EncoderWidth = 64, EncoderDepth = 4, EncoderHeads = 4, DecoderWidth = 32, DecoderDepth = 1, DecoderHeads = 4 };

    /// <inheritdoc/>
    public int Run(SampleArguments args)
    {
        string dataset = args.String("dataset", "");
        string maskingName = args.String("masking", "adversarial");
        int seed = args.Int("seed", 0);
        string outDir = args.String("out", "");
        bool quick = args.Flag("quick");
        int threads = args.Int("threads", Environment.ProcessorCount);
        int epochsOption = args.Int("epochs", 0);
        int trainOption = args.Int("train", 0);
        double alpha = Number(args.String("alpha", "0.5"), "alpha");
        double lambda = Number(args.String("lambda", "1"), "lambda");
        string objectiveName = args.String("objective", "maximize");
        string ruleName = args.String("rule", "top");
        string dataDir = args.String("data", FashionMnist.DefaultDirectory);
        args.EnsureAllUsed();
        if (outDir.Length == 0)
            throw new ArgumentException("--out DIR is required: mae.json and the pictures go there.");
        var masking = maskingName switch
        {
            "random" => MaskingStrategy.Random,
            "adversarial" => MaskingStrategy.Adversarial,
            _ => throw new ArgumentException($"--masking must be random or adversarial, not '{maskingName}'."),
        };
        var objective = objectiveName switch
        {
            "maximize" => AdversarialObjective.MaximizeReconstructionError,
            "seed-literal" => AdversarialObjective.SeedLiteral,
            _ => throw new ArgumentException($"--objective must be maximize or seed-literal, not '{objectiveName}'."),
        };
        var rule = ruleName switch
        {
            "top" => AdversarialPatchRule.TopScores,
            "threshold" => AdversarialPatchRule.AboveThreshold,
            "mean" => AdversarialPatchRule.AboveImageMean,
            _ => throw new ArgumentException($"--rule must be top, threshold or mean, not '{ruleName}'."),
        };

        var ml = new MLContext(seed);
        var (train, test, trainCount, objectMask, channels) = dataset switch
        {
            "fashion-mnist" => FashionMnistData(ml, dataDir, quick, trainOption),
            "shapes" => ShapesData(ml, quick, trainOption),
            _ => throw new ArgumentException($"--dataset must be fashion-mnist or shapes, not '{dataset}'."),
        };
        Directory.CreateDirectory(outDir);
        int epochs = epochsOption > 0 ? epochsOption : quick ? 8 : 20;
        var options = new MaskedAutoencoderPretrainer.Options
        {
            Masking = masking,
            // The library's default network; --quick uses a smaller one (encoder 4×64, decoder 1×32) to fit minutes on 2 shared cores.
            Architecture = quick ? QuickArchitecture() : new MaskedAutoencoderArchitecture(),
            MaxAdversarialShare = alpha,
            AdversarialWeight = lambda,
            Objective = objective,
            AdversarialRule = rule,
            Epochs = epochs,
            BatchSize = 128,
            LearningRate = 1.5e-3,
            WarmupEpochs = epochs > 1 ? 1 : 0,
            Seed = seed,
            NumberOfThreads = threads,
            ReconstructionColumnName = "Reconstruction",
            MaskColumnName = "Mask",
            ScoreMapColumnName = masking == MaskingStrategy.Adversarial ? "Scores" : null,
        };
        ml.Log += (_, e) =>
        {
            if (e.Kind == Runtime.ChannelMessageKind.Info && e.Source.StartsWith("MaskedAutoencoderPretrainer", StringComparison.Ordinal))
                Console.WriteLine($"  {e.Message}");
        };

        Console.WriteLine($"mae: {dataset}{(quick ? " (quick)" : "")}, {masking} masking, {trainCount} training images, {epochs} epochs, seed {seed}, {threads} thread(s)");
        var watch = Stopwatch.StartNew();
        var mae = ml.Transforms.PretrainMaskedAutoencoder(options).Fit(train);
        var pretrainTime = watch.Elapsed;

        var trainEmbedded = ml.Data.Cache(mae.Transform(train));
        var testEmbedded = ml.Data.Cache(mae.Transform(test));
        var probe = ml.Transforms.NormalizeMeanVariance("Features", "Embedding")
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(labelColumnName: "Label", featureColumnName: "Features"))
            .Fit(trainEmbedded);
        double probeAccuracy = ml.MulticlassClassification.Evaluate(probe.Transform(testEmbedded)).MicroAccuracy;
        double knnAccuracy = NearestNeighbourAccuracy(Embeddings(trainEmbedded), Embeddings(testEmbedded), NeighbourCount);
        var diagnostics = mae.Diagnose(test, objectMask);
        Console.WriteLine($"linear probe {probeAccuracy:F4}, {NeighbourCount}-NN {knnAccuracy:F4}, entropy {diagnostics.PositionEntropy:F4}, " +
                          $"overlap {diagnostics.PairwiseOverlap:F4} (random {diagnostics.RandomPairwiseOverlap:F4}), hardness gap {diagnostics.HardnessGap?.ToString("F4", CultureInfo.InvariantCulture) ?? "n/a"}");

        string picture = Path.Combine(outDir, "mae_examples.png");
        Examples(ml, mae, test, channels).Save(picture);

        double imagesPerSecond = mae.TrainingHistory.Count / mae.TrainingHistory.Sum(h => 1 / h.ImagesPerSecond);
        var report = new JsonObject
        {
            ["dataset"] = dataset,
            ["masking"] = masking.ToString().ToLowerInvariant(),
            ["quick"] = quick,
            ["seed"] = seed,
            ["linear_probe_accuracy"] = probeAccuracy,
            ["knn_accuracy"] = knnAccuracy,
            ["knn_k"] = NeighbourCount,
            ["images_per_second"] = Math.Round(imagesPerSecond, 1),
            ["mask_position_entropy"] = diagnostics.PositionEntropy,
            ["mask_pairwise_overlap"] = diagnostics.PairwiseOverlap,
            ["mask_pairwise_overlap_random_expectation"] = diagnostics.RandomPairwiseOverlap,
            ["hardness_gap"] = diagnostics.HardnessGap,
            ["reconstruction_error"] = diagnostics.ReconstructionError,
            ["object_share_masked"] = diagnostics.ObjectShareMasked,
            ["object_share_adversarial"] = diagnostics.ObjectShareAdversarial,
            ["diagnostics_alpha"] = diagnostics.AdversarialShare,
            ["train_images"] = trainCount,
            ["test_images"] = diagnostics.Images,
            ["epochs"] = epochs,
            ["pretraining_seconds"] = Math.Round(pretrainTime.TotalSeconds, 1),
            ["options"] = new JsonObject
            {
                ["mask_ratio"] = options.MaskRatio, ["max_adversarial_share"] = alpha, ["adversarial_weight"] = lambda,
                ["objective"] = objective.ToString(), ["rule"] = rule.ToString(), ["selection_temperature"] = options.SelectionTemperature,
                ["size_penalty_weight"] = options.SizePenaltyWeight, ["diversity_penalty_weight"] = options.DiversityPenaltyWeight,
                ["learning_rate"] = options.LearningRate, ["batch_size"] = options.BatchSize, ["threads"] = threads,
                ["architecture"] = JsonNode.Parse(JsonSerializer.Serialize(mae.Architecture)),
            },
            ["history"] = new JsonArray(mae.TrainingHistory.Select(h => (JsonNode)new JsonObject
            {
                ["epoch"] = h.Epoch, ["reconstruction_loss"] = Round(h.ReconstructionLoss), ["adversarial_term"] = Round(h.AdversarialTerm),
                ["hardness_gap"] = double.IsFinite(h.HardnessGap) ? Round(h.HardnessGap) : null, ["alpha"] = Round(h.AdversarialShare),
                ["images_per_second"] = Math.Round(h.ImagesPerSecond, 1), ["seconds"] = Math.Round(h.Duration.TotalSeconds, 1),
            }).ToArray()),
            ["pictures"] = Path.GetFullPath(picture),
            ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
        };
        string reportPath = Path.Combine(outDir, "mae.json");
        File.WriteAllText(reportPath, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"wrote {reportPath} and {picture}");
        return 0;
    }

    private static (IDataView Train, IDataView Test, int TrainCount, string? ObjectMask, int Channels) FashionMnistData(MLContext ml, string directory, bool quick, int trainOption)
    {
        var train = ml.Data.LoadFashionMnist(FashionMnistSplit.Train, directory);
        var test = ml.Data.LoadFashionMnist(FashionMnistSplit.Test, directory);
        int trainCount = trainOption > 0 ? trainOption : quick ? 6_000 : 20_000;
        return (ml.Data.Cache(ml.Data.TakeRows(train, trainCount)), ml.Data.Cache(ml.Data.TakeRows(test, quick ? 2_000 : 10_000)), trainCount, null, 1);
    }

    private static (IDataView Train, IDataView Test, int TrainCount, string? ObjectMask, int Channels) ShapesData(MLContext ml, bool quick, int trainOption)
    {
        int trainCount = trainOption > 0 ? trainOption : quick ? 6_000 : 20_000;
        // Independent draws (different seeds) of the same generator; 32 px RGB, 64 patches of 4 px.
        var train = ml.Data.LoadShapes(new ShapesOptions { ImageSize = 32, Count = trainCount, Seed = 1 });
        var test = ml.Data.LoadShapes(new ShapesOptions { ImageSize = 32, Count = quick ? 2_000 : 5_000, Seed = 2 });
        return (ml.Data.Cache(train), ml.Data.Cache(test), trainCount, "ObjectMask", 3);
    }

    /// <summary>The embeddings, scaled to unit length for cosine similarity, and the labels.</summary>
    private static (float[][] Vectors, uint[] Labels) Embeddings(IDataView data)
    {
        var (rows, labels) = Read(data, "Embedding", "Label");
        foreach (var v in rows)
        {
            float norm = (float)Math.Max(Math.Sqrt(v.Sum(x => (double)x * x)), 1e-12);
            for (int d = 0; d < v.Length; d++) v[d] /= norm;
        }
        return (rows, labels);
    }

    /// <summary>Accuracy of a majority vote among the k training embeddings with the highest cosine similarity.</summary>
    private static double NearestNeighbourAccuracy((float[][] Vectors, uint[] Labels) train, (float[][] Vectors, uint[] Labels) test, int k)
    {
        int correct = 0;
        object gate = new();
        Parallel.For(0, test.Vectors.Length, () => 0, (i, state, local) =>
        {
            var query = test.Vectors[i];
            var best = new PriorityQueue<uint, float>();
            for (int j = 0; j < train.Vectors.Length; j++)
            {
                float similarity = 0;
                var candidate = train.Vectors[j];
                for (int d = 0; d < query.Length; d++) similarity += query[d] * candidate[d];
                best.Enqueue(train.Labels[j], similarity);
                if (best.Count > k) best.Dequeue();
            }
            var votes = new Dictionary<uint, int>();
            while (best.TryDequeue(out var label, out _))
                votes[label] = votes.GetValueOrDefault(label) + 1;
            uint predicted = votes.OrderByDescending(v => v.Value).ThenBy(v => v.Key).First().Key;
            return local + (predicted == test.Labels[i] ? 1 : 0);
        }, local => { lock (gate) correct += local; });
        return (double)correct / test.Vectors.Length;
    }

    /// <summary>Eight test images: the image, its mask (grey: random removals, red: the masking network's picks), the reconstruction, the score map.</summary>
    private static PixelImage Examples(MLContext ml, MaskedAutoencoderTransformer mae, IDataView test, int channels)
    {
        var rows = ml.Data.TakeRows(test, 8);
        var mapped = mae.Transform(rows);
        var shape = mae.ImageShape;
        var images = Column(mapped, "Image");
        var masks = Column(mapped, "Mask");
        var reconstructions = Column(mapped, "Reconstruction");
        var scores = mapped.Schema.GetColumnOrNull("Scores") is null ? null : Column(mapped, "Scores");
        var grid = new List<IReadOnlyList<PixelImage>>();
        for (int i = 0; i < images.Length; i++)
        {
            var row = new List<PixelImage>
            {
                PixelImage.FromPlanar(images[i], channels, shape.Height, shape.Width, 4),
                PixelImage.FromPlanar(MaskedPicture(images[i], masks[i], channels, shape.Pixels), 3, shape.Height, shape.Width, 4),
                PixelImage.FromPlanar(reconstructions[i], channels, shape.Height, shape.Width, 4),
            };
            if (scores is not null)
                row.Add(PixelImage.FromPlanar(scores[i], 1, shape.Height, shape.Width, 4));
            grid.Add(row);
        }
        return PixelImage.Grid(grid);
    }

    private static float[] MaskedPicture(float[] image, float[] mask, int channels, int pixels)
    {
        var rgb = new float[3 * pixels];
        for (int p = 0; p < pixels; p++)
        {
            for (int c = 0; c < 3; c++)
            {
                float value = image[(channels == 1 ? 0 : c) * pixels + p];
                rgb[c * pixels + p] = mask[p] switch
                {
                    0f => value,
                    1f => 0.5f,
                    _ => c == 0 ? 0.9f : 0.1f,
                };
            }
        }
        return rgb;
    }

    private static float[][] Column(IDataView data, string name) => Read(data, name).Rows;

    /// <summary>
    /// The rows of the float-vector column <paramref name="name"/> (and the keys of <paramref name="label"/> when given),
    /// through the library's one batch reader, so the columns are checked and named as in the library.
    /// </summary>
    private static (float[][] Rows, uint[] Labels) Read(IDataView data, string name, string? label = null)
    {
        int size = (data.Schema[name].Type as VectorDataViewType)?.Size
                   ?? throw new ArgumentException($"Column '{name}' is not a vector of floats.", nameof(name));
        var columns = new List<BatchInputColumn> { BatchInputColumn.Vector(name, size) };
        if (label is not null)
            columns.Add(BatchInputColumn.Label(label));
        var rows = new List<float[]>();
        var labels = new List<uint>();
        foreach (var batch in new DataViewBatchReader(data, columns).Batches(256))
        {
            for (int i = 0; i < batch.Count; i++)
            {
                rows.Add(batch[name].Row(i).ToArray());
                if (label is not null)
                    labels.Add(batch[label].Keys[i]);
            }
        }
        return (rows.ToArray(), labels.ToArray());
    }

    private static double Number(string text, string name) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : throw new ArgumentException($"--{name} expects a number, got '{text}'.");

    private static double Round(double value) => Math.Round(value, 5);
}
