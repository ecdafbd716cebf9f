using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Data;
using Microsoft.ML.Masking.LayerMasking.Engine;
using Microsoft.ML.Masking.Models.Onnx;
using Microsoft.ML.Masking.Samples.Benchmarks;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Samples.Commands;

/// <summary>
/// ML.NET's ImageNet ResNet-18 (package Microsoft.ML.DnnImageFeaturizer.ResNet18) imported into the project's ResNet:
/// how far its features are from ONNX Runtime's (through ML.NET's ApplyOnnxModel), whether an all-ones mask equals
/// the plain pass and removed pixels leave the layer-masked features unchanged, and what layer masking costs on it.
/// </summary>
public sealed class OnnxResNet18Command : ISampleCommand
{
    private const string InputName = "Input247";
    private const string OutputName = "Pooling395_Output_0";
    internal const int Side = 224;

    /// <inheritdoc/>
    public string Name => "onnx-resnet18";

    /// <inheritdoc/>
    public string Summary => "ML.NET's pretrained ResNet-18 ONNX imported: max rel. diff vs ONNX Runtime, mask checks, masked/plain; --out DIR [--batch N] [--rounds N]";

    /// <inheritdoc/>
    public int Run(SampleArguments args)
    {
        var outDir = args.String("out", "out/onnx");
        int batch = args.Int("batch", 8);
        int rounds = args.Int("rounds", 5);
        var onnx = args.String("onnx", Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx"));
        args.EnsureAllUsed();
        Directory.CreateDirectory(outDir);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var network = OnnxResNetImporter.ImportResNet(onnx);
        // Mean-subtracted BGR pixels on the 0–255 scale: the range of the network's input.
        var generator = new Generator(5);
        var images = randn([batch, 3, Side, Side], generator: generator).mul_(40f);
        var plain = network.Features(images);

        double maxRel = MaxRelativeDiffToOnnxRuntime(onnx, images, plain);

        using var masked = LayerMaskedNetwork.Create(network);
        var everything = ones(batch, Side, Side);
        double allOnes = masked.ForwardWithFeatures(images, everything).Features!.sub(plain).abs().max().item<float>();
        // Half of the 16×16 patches removed, the paper's middle setting; other content where removed must not matter.
        var keep = nn.functional.interpolate(
            rand([batch, 1, Side / 16, Side / 16], generator: generator).ge(0.5).to(ScalarType.Float32),
            scale_factor: [16, 16], mode: InterpolationMode.Nearest);
        var other = where(keep.eq(0), randn([batch, 3, Side, Side], generator: generator).mul_(100f), images);
        var a = masked.ForwardWithFeatures(images, keep).Features!;
        var b = masked.ForwardWithFeatures(other, keep).Features!;
        double invariance = a.sub(b).abs().max().item<float>();

        static void Time(Func<Tensor> forward)
        {
            using var s = NewDisposeScope();
            forward();
        }
        var medians = Stopwatches.Interleaved(
        [
            ("plain", () => Time(() => network.Features(images))),
            ("masked", () => Time(() => masked.ForwardWithFeatures(images, keep).Features!)),
        ], warmup: 1, rounds: rounds, progress: Console.WriteLine);

        var report = new JsonObject
        {
            ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
            ["machine"] = $"{Environment.ProcessorCount} cores, torch threads {torch.get_num_threads()}",
            ["onnx"] = onnx,
            ["layers"] = string.Join(",", network.Architecture.Layers),
            ["batch"] = batch,
            ["vs_onnxruntime_max_rel_diff"] = maxRel,
            ["features_scale"] = plain.abs().max().item<float>(),
            ["all_ones_max_abs_diff"] = allOnes,
            ["invariance_max_abs_diff"] = invariance,
            ["plain_ms"] = Math.Round(medians["plain"] * 1000, 1),
            ["masked_ms"] = Math.Round(medians["masked"] * 1000, 1),
            ["masked_over_plain"] = Math.Round(medians["masked"] / medians["plain"], 3),
        };
        var path = Path.Combine(outDir, "onnx-resnet18.json");
        var json = report.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        File.WriteAllText(path, json);
        Console.WriteLine(json);
        Console.WriteLine($"wrote {path}");
        return 0;
    }

    /// <summary>
    /// The largest difference between <paramref name="features"/> (the imported network's, one row per image) and ONNX
    /// Runtime's output for <paramref name="images"/> [N, 3, 224, 224] through ML.NET's ApplyOnnxModel, relative to
    /// each row's largest magnitude.
    /// </summary>
    internal static double MaxRelativeDiffToOnnxRuntime(string onnx, Tensor images, Tensor features)
    {
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, (int)images.shape[0])
            .Select(i => new OnnxInput { Pixels = images[i].contiguous().data<float>().ToArray() }).ToList());
        var runtime = ml.Transforms.ApplyOnnxModel(OutputName, InputName, onnx).Fit(data)
            .Transform(data).GetColumn<float[]>(OutputName).ToArray();
        double maxRel = 0;
        for (int i = 0; i < runtime.Length; i++)
        {
            var ours = features[i].data<float>().ToArray();
            double scale = ours.Zip(runtime[i], (a, b) => Math.Max(Math.Abs(a), Math.Abs(b))).Max();
            maxRel = Math.Max(maxRel, ours.Zip(runtime[i], (a, b) => Math.Abs((double)a - b)).Max() / scale);
        }
        return maxRel;
    }

    private sealed class OnnxInput
    {
        [VectorType(3 * Side * Side)]
        [ColumnName(InputName)]
        public float[] Pixels { get; set; } = [];
    }
}
