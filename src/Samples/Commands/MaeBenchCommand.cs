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
/// (adversarial / random). <c>--amn-channels 8,4</c> adds an adversarial arm per masking-network width to the same
/// interleaving (the first is the one reported as "adversarial"). Writes DIR/mae_bench.json.
/// </summary>
public sealed class MaeBenchCommand : ISampleCommand
{
    /// <inheritdoc/>
    public string Name => "mae-bench";

    /// <inheritdoc/>
    public string Summary => "throughput of random vs adversarial MAE pre-training, interleaved; --out DIR [--dataset fashion-mnist|shapes] [--rounds N] [--train N] [--threads N] [--quick] [--amn-channels 8,4]";

    /// <inheritdoc/>
    public int Run(SampleArguments args)
    {
        string outDir = args.String("out", "");
        string dataset = args.String("dataset", "fashion-mnist");
        int rounds = args.Int("rounds", 3);
        int trainCount = args.Int("train", 1024);
        int threads = args.Int("threads", Environment.ProcessorCount);
        bool quick = args.Flag("quick");
        int[] widths = args.String("amn-channels", "8").Split(',').Select(w => int.Parse(w, CultureInfo.InvariantCulture)).ToArray();
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

        string loadBefore = LoadAverage();
        // Arm 0 is random masking; arm 1 + i is adversarial masking with widths[i] hidden channels in the masking network.
        var arms = new[] { (Masking: MaskingStrategy.Random, Width: widths[0]) }
            .Concat(widths.Select(w => (Masking: MaskingStrategy.Adversarial, Width: w))).ToArray();
        string ArmName(int arm) => arm == 0 ? "random" : widths.Length == 1 ? "adversarial" : $"adversarial (AMN {arms[arm].Width} ch)";
        var speeds = arms.Select(_ => new List<double>()).ToArray();
        // Process CPU time per image of each fit, next to the wall-clock rate: other processes on a shared machine
        // take wall time from a run, much less its CPU time, so the CPU ratio is a check on the wall-clock one.
        var cpuPerImage = arms.Select(_ => new List<double>()).ToArray();
        var process = System.Diagnostics.Process.GetCurrentProcess();
        // One untimed warm-up of each arm (JIT, allocator), then the timed rounds, interleaved.
        for (int round = -1; round < rounds; round++)
        {
            for (int arm = 0; arm < arms.Length; arm++)
            {
                var options = new MaskedAutoencoderPretrainer.Options
                {
                    Architecture = quick ? MaeCommand.QuickArchitecture() : new MaskedAutoencoderArchitecture(),
                    Masking = arms[arm].Masking, MaskingNetworkChannels = arms[arm].Width,
                    Epochs = 1, BatchSize = 128, WarmupEpochs = 0, NumberOfThreads = threads, Seed = round + 1,
                };
                process.Refresh();
                var cpuBefore = process.TotalProcessorTime;
                var model = ml.Transforms.PretrainMaskedAutoencoder(options).Fit(data);
                process.Refresh();
                double cpuMs = (process.TotalProcessorTime - cpuBefore).TotalMilliseconds / trainCount;
                double speed = model.TrainingHistory[0].ImagesPerSecond;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {round + 1}{(round < 0 ? " (warm-up)" : "")}: {ArmName(arm),-26} {speed,8:F1} images/s, {cpuMs:F3} CPU ms/image"));
                if (round >= 0)
                {
                    speeds[arm].Add(speed);
                    cpuPerImage[arm].Add(cpuMs);
                }
            }
        }
        double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);
        var medians = speeds.Select(Median).ToArray();
        var cpuMedians = cpuPerImage.Select(Median).ToArray();
        double randomSpeed = medians[0], adversarialSpeed = medians[1];
        double ratio = randomSpeed / adversarialSpeed;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median: random {randomSpeed:F1} images/s, adversarial {adversarialSpeed:F1} images/s; step-time ratio adversarial / random {ratio:F3} (target ≤ 1.15); CPU-time ratio {cpuMedians[1] / cpuMedians[0]:F3}"));
        for (int arm = 2; arm < arms.Length; arm++)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"median: {ArmName(arm)} {medians[arm]:F1} images/s; ratio {randomSpeed / medians[arm]:F3}; CPU-time ratio {cpuMedians[arm] / cpuMedians[0]:F3}"));
        var report = new JsonObject
        {
            ["dataset"] = dataset, ["network"] = quick ? "quick (encoder 4x64, decoder 1x32)" : "default (encoder 6x128, decoder 2x64)",
            ["cpu"] = LayerMaskBenchCommand.CpuInfo(), ["train_images"] = trainCount, ["rounds"] = rounds, ["threads"] = threads,
            ["masking_network_channels"] = widths[0],
            ["random_images_per_second"] = Rounded(speeds[0]),
            ["adversarial_images_per_second"] = Rounded(speeds[1]),
            ["median_random_images_per_second"] = Math.Round(randomSpeed, 1),
            ["median_adversarial_images_per_second"] = Math.Round(adversarialSpeed, 1),
            ["step_time_ratio_adversarial_over_random"] = Math.Round(ratio, 3),
            ["random_cpu_ms_per_image"] = Rounded(cpuPerImage[0], 3),
            ["adversarial_cpu_ms_per_image"] = Rounded(cpuPerImage[1], 3),
            ["cpu_time_ratio_adversarial_over_random"] = Math.Round(cpuMedians[1] / cpuMedians[0], 3),
            ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
            ["load_average_before_after"] = $"{loadBefore} / {LoadAverage()}",
        };
        if (widths.Length > 1)
        {
            report["other_masking_network_widths"] = new JsonArray(Enumerable.Range(2, arms.Length - 2).Select(arm => (JsonNode)new JsonObject
            {
                ["masking_network_channels"] = arms[arm].Width,
                ["adversarial_images_per_second"] = Rounded(speeds[arm]),
                ["median_adversarial_images_per_second"] = Math.Round(medians[arm], 1),
                ["step_time_ratio_adversarial_over_random"] = Math.Round(randomSpeed / medians[arm], 3),
                ["adversarial_cpu_ms_per_image"] = Rounded(cpuPerImage[arm], 3),
                ["cpu_time_ratio_adversarial_over_random"] = Math.Round(cpuMedians[arm] / cpuMedians[0], 3),
            }).ToArray());
        }
        File.WriteAllText(Path.Combine(outDir, "mae_bench.json"), report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    /// <summary>The 1-, 5- and 15-minute load averages (Linux), so a reader can see how quiet the machine was.</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static JsonArray Rounded(List<double> values, int digits = 1) => new(values.Select(v => (JsonNode)Math.Round(v, digits)).ToArray());
}
