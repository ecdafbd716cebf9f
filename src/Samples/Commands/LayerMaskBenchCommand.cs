using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Masking.LayerMasking.Engine;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Samples.Benchmarks;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Samples.Commands;

/// <summary>
/// Measures what layer masking costs: a layer-masked forward pass divided by a plain one (ResNet-18 at 64×64,
/// ResNet-50 at 224×224, batch 32), the paper's reference implementation divided by a plain one, and the
/// LayerMask transform through an IDataView pipeline divided by a raw batched forward.
/// </summary>
public sealed class LayerMaskBenchCommand : ISampleCommand
{
    /// <inheritdoc/>
    public string Name => "layer-mask-bench";

    /// <inheritdoc/>
    public string Summary => "masked/plain forward time (ResNet-18 64px, ResNet-50 224px) and pipeline/raw throughput; --out DIR [--rounds N] [--batch N] [--only resnet18,resnet50,pipeline]";

    /// <inheritdoc/>
    public int Run(SampleArguments args)
    {
        var outDir = args.String("out", "out/bench");
        int rounds = args.Int("rounds", 5);
        int batch = args.Int("batch", 32);
        var parts = args.String("only", "resnet18,resnet50,pipeline").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        args.EnsureAllUsed();
        Directory.CreateDirectory(outDir);

        var report = new JsonObject
        {
            ["cpu"] = CpuInfo(),
            ["machine"] = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, torch threads {torch.get_num_threads()}",
            ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture),
            ["batch"] = batch,
            ["rounds"] = rounds,
        };
        if (parts.Contains("resnet18"))
            report["resnet18_64"] = MeasureForward("ResNet-18 64x64", ResNetArchitecture.ResNet18(numClasses: 1000), 64, patch: 8, batch, rounds);
        if (parts.Contains("resnet50"))
            report["resnet50_224"] = MeasureForward("ResNet-50 224x224", ResNetArchitecture.ResNet50(numClasses: 1000), 224, patch: 16, batch, rounds);
        if (parts.Contains("pipeline"))
            foreach (var (key, value) in PipelineBenchmark.Measure(batch, rounds))
                report[key] = value;

        var path = Path.Combine(outDir, "layer-mask-bench.json");
        var json = report.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        File.WriteAllText(path, json);
        Console.WriteLine(json);
        Console.WriteLine($"wrote {path}");
        return 0;
    }

    /// <summary>The CPU as <c>lscpu</c> names it ("model name" in /proc/cpuinfo) and whether it has AVX-512.</summary>
    internal static JsonObject CpuInfo()
    {
        const string cpuinfo = "/proc/cpuinfo";
        var lines = File.Exists(cpuinfo) ? File.ReadLines(cpuinfo).ToArray() : [];
        string? Field(string name) => lines.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal) && l.Contains(':'))?.Split(':', 2)[1].Trim();
        var flags = (Field("flags") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return new JsonObject
        {
            ["model_name"] = Field("model name") ?? System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString(),
            ["avx512"] = flags.Contains("avx512f"),
            ["logical_cpus"] = Environment.ProcessorCount,
        };
    }

    private static JsonObject MeasureForward(string label, ResNetArchitecture architecture, int size, int patch, int batch, int rounds)
    {
        Console.WriteLine($"== {label}, batch {batch}");
        using var scope = NewDisposeScope();
        var network = new ResNet(architecture, seed: 1);
        network.eval();
        var generator = new Generator(7);
        var images = randn(new long[] { batch, 3, size, size }, generator: generator);
        // Half of the patches removed: the paper's middle setting.
        long cells = size / patch;
        var keep = nn.functional.interpolate(
            rand(new long[] { batch, 1, cells, cells }, generator: generator).ge(0.5).to(ScalarType.Float32),
            scale_factor: [patch, patch], mode: InterpolationMode.Nearest);
        using var masked = LayerMaskedNetwork.Create(network);
        using var unfolded = LayerMaskedNetwork.Create(network, foldBatchNorm: false);

        static void Time(Func<Tensor> forward)
        {
            using var s = NewDisposeScope();
            using var _ = no_grad();
            forward();
        }
        // The same fast path with nothing removed: no padding or masking runs, so this is the network's plain forward
        // pass with BatchNorm folded and channels-last layout — the fairest plain baseline for the masked time.
        var everything = ones(batch, size, size);
        var medians = Stopwatches.Interleaved(
        [
            ("plain", () => Time(() => network.call(images))),
            ("plain_optimized", () => Time(() => masked.Forward(images, everything))),
            ("masked", () => Time(() => masked.Forward(images, keep))),
            ("masked_unfolded", () => Time(() => unfolded.Forward(images, keep))),
            ("reference", () => Time(() => masked.ForwardReference(images, keep).Logits)),
        ], warmup: 1, rounds: rounds, progress: Console.WriteLine);

        double plain = medians["plain"];
        return new JsonObject
        {
            ["plain_ms"] = Math.Round(plain * 1000, 1),
            ["masked_ms"] = Math.Round(medians["masked"] * 1000, 1),
            ["plain_optimized_ms"] = Math.Round(medians["plain_optimized"] * 1000, 1),
            ["masked_over_plain"] = Math.Round(medians["masked"] / plain, 3),
            ["masked_over_plain_optimized"] = Math.Round(medians["masked"] / medians["plain_optimized"], 3),
            ["masked_without_bn_folding_over_plain"] = Math.Round(medians["masked_unfolded"] / plain, 3),
            ["reference_over_plain"] = Math.Round(medians["reference"] / plain, 3),
            ["reference_over_masked"] = Math.Round(medians["reference"] / medians["masked"], 3),
        };
    }
}
