using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Pretraining;

namespace Microsoft.ML.Masking.Samples.Commands;

/// <summary>
/// Training throughput of masked-autoencoder pre-training with random and with adversarial masking, measured in one
/// process with the two arms interleaved (random, adversarial, random, …), one epoch each, on the same images and
/// settings. Reports images/s of the training steps of each run and the ratio of the medians' step times
/// (adversarial / random). Writes DIR/mae_bench.json.
/// </summary>
public sealed class MaeBenchCommand : ISampleCommand
{
    /// <inheritdoc/>
    public string Name => "mae-bench";

    /// <inheritdoc/>
    public string Summary => "throughput of random vs adversarial MAE pre-training, interleaved; --out DIR [--dataset fashion-mnist|shapes] [--rounds N] [--train N] [--threads N] [--quick]";

    /// <inheritdoc/>
    public int Run(SampleArguments args)
    {
        string outDir = args.String("out", "");
        string dataset = args.String("dataset", "fashion-mnist");
        int rounds = args.Int("rounds", 3);
        int trainCount = args.Int("train", 1024);
        int threads = args.Int("threads", Environment.ProcessorCount);
        bool quick = args.Flag("quick");
        args.EnsureAllUsed();
        if (outDir.Length == 0)
            throw new ArgumentException("--out DIR is required: mae_bench.json goes there.");
        Directory.CreateDirectory(outDir);
        var ml = new MLContext(0);
        var data = dataset switch
        {
            "fashion-mnist" => ml.Data.Cache(ml.Data.TakeRows(ml.Data.LoadFashionMnist(FashionMnistSplit.Train), trainCount)),
            "shapes" => ml.Data.Cache(ml.Data.LoadShapes(new ShapesOptions { ImageSize = 32, Count = trainCount, Seed = 1 })),
            _ => throw new ArgumentException($"--dataset must be fashion-mnist or shapes, not '{dataset}'."),
        };

        var speeds = new Dictionary<MaskingStrategy, List<double>> { [MaskingStrategy.Random] = [], [MaskingStrategy.Adversarial] = [] };
        // One untimed warm-up of each arm (JIT, allocator), then the timed rounds, interleaved.
        for (int round = -1; round < rounds; round++)
        {
            foreach (var masking in new[] { MaskingStrategy.Random, MaskingStrategy.Adversarial })
            {
                var options = new MaskedAutoencoderPretrainer.Options
                {
                    Architecture = quick ? MaeCommand.QuickArchitecture() : new MaskedAutoencoderArchitecture(),
                    Masking = masking, Epochs = 1, BatchSize = 128, WarmupEpochs = 0, NumberOfThreads = threads, Seed = round + 1,
                };
                var model = ml.Transforms.PretrainMaskedAutoencoder(options).Fit(data);
                double speed = model.TrainingHistory[0].ImagesPerSecond;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round + 1}{(round < 0 ? " (warm-up)" : "")}: {masking,-11} {speed,8:F1} images/s"));
                if (round >= 0)
                    speeds[masking].Add(speed);
            }
        }
        double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);
        double randomSpeed = Median(speeds[MaskingStrategy.Random]), adversarialSpeed = Median(speeds[MaskingStrategy.Adversarial]);
        double ratio = randomSpeed / adversarialSpeed;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median: random {randomSpeed:F1} images/s, adversarial {adversarialSpeed:F1} images/s; step-time ratio adversarial / random {ratio:F3} (target ≤ 1.15)"));
        var report = new JsonObject
        {
            ["dataset"] = dataset, ["network"] = quick ? "quick (encoder 4x64, decoder 1x32)" : "default (encoder 6x128, decoder 2x64)",
            ["cpu"] = LayerMaskBenchCommand.CpuInfo(), ["train_images"] = trainCount, ["rounds"] = rounds, ["threads"] = threads,
            ["random_images_per_second"] = new JsonArray(speeds[MaskingStrategy.Random].Select(s => (JsonNode)Math.Round(s, 1)).ToArray()),
            ["adversarial_images_per_second"] = new JsonArray(speeds[MaskingStrategy.Adversarial].Select(s => (JsonNode)Math.Round(s, 1)).ToArray()),
            ["median_random_images_per_second"] = Math.Round(randomSpeed, 1),
            ["median_adversarial_images_per_second"] = Math.Round(adversarialSpeed, 1),
            ["step_time_ratio_adversarial_over_random"] = Math.Round(ratio, 3),
            ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
        };
        File.WriteAllText(Path.Combine(outDir, "mae_bench.json"), report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }
}
