using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.LayerMasking.Engine;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Models.Onnx;
using Microsoft.ML.Masking.Samples.Benchmarks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using ResNet = Microsoft.ML.Masking.Models.ResNet;

namespace Microsoft.ML.Masking.Samples.Commands;

/// <summary>
/// Layer masking on every architecture family the graph engine reads (random weights with random BatchNorm statistics,
/// and ML.NET's pretrained ONNX ResNet-18): how far an all-ones mask is from the module's own forward, how far the
/// output moves when the removed pixels change, and a layer-masked forward pass's time over the module's own.
/// </summary>
public sealed class LayerMaskModelsCommand : ISampleCommand
{
    /// <inheritdoc/>
    public string Name => "layer-mask-models";

    /// <inheritdoc/>
    public string Summary => "layer masking on ResNet-18/50, VGG-11-BN, AlexNet, MobileNetV2/V3, the ONNX ResNet-18 and an ONNX MobileNet-like file: all-ones and invariance diffs, masked/plain; --out DIR [--size PX] [--batch N] [--rounds N] [--only a,b]";

    private static readonly (string Key, Func<nn.Module<Tensor, Tensor>> Build)[] Families =
    [
        ("resnet18", () => new ResNet(ResNetArchitecture.ResNet18(), seed: 1)),
        ("resnet50", () => new ResNet(ResNetArchitecture.ResNet50(), seed: 1)),
        ("vgg11_bn", () => torchvision.models.vgg11_bn()),
        ("alexnet", () => torchvision.models.alexnet()),
        ("mobilenet_v2", () => torchvision.models.mobilenet_v2()),
        ("mobilenet_v3_large", torchvision.models.mobilenet_v3_large),
        ("mobilenet_v3_small", torchvision.models.mobilenet_v3_small),
    ];

    /// <inheritdoc/>
    public int Run(SampleArguments args)
    {
        var outDir = args.String("out", "out/layer-mask-models");
        int size = args.Int("size", 224);
        int batch = args.Int("batch", 8);
        int rounds = args.Int("rounds", 5);
        var onnx = args.String("onnx", Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx"));
        var only = args.String("only", string.Join(",", Families.Select(f => f.Key).Append("onnx_resnet18").Append("onnx_mobilenet_like")))
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        args.EnsureAllUsed();
        Directory.CreateDirectory(outDir);

        var report = new JsonObject
        {
            ["cpu"] = LayerMaskBenchCommand.CpuInfo(),
            ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
            ["torch_threads"] = torch.get_num_threads(),
            ["image_size"] = size,
            ["batch"] = batch,
            ["rounds"] = rounds,
            ["weights"] = "random (seeded), BatchNorm running statistics and affine parameters randomised; onnx_resnet18: ML.NET's ImageNet weights",
            ["mask"] = "half of the 16x16 patches removed (plain time: the module's own forward)",
        };
        foreach (var (key, build) in Families.Where(f => only.Contains(f.Key)))
        {
            using var scope = NewDisposeScope();
            torch.manual_seed(1);
            using var network = build();
            RandomBatchNorm.Apply(network, seed: 11);
            var images = randn([batch, 3, size, size], generator: new Generator(7));
            report[key] = Measure(key, network, images, network.call, r => r.Logits, rounds);
        }
        if (only.Contains("onnx_resnet18"))
        {
            using var scope = NewDisposeScope();
            // The general importer (what ImageClassifier.FromOnnxResNet18 uses), checked against ONNX Runtime on import.
            var (network, _) = OnnxNetwork.Import(onnx, imageShape: null, tolerance: 1e-4);
            using var _ = network;
            int side = OnnxResNet18Command.Side;
            // Mean-subtracted BGR pixels on the 0–255 scale: the range of the network's input.
            var images = randn([batch, 3, side, side], generator: new Generator(5)).mul_(40f);
            var entry = Measure("onnx_resnet18", network, images, network.call, r => r.Logits, rounds);
            using (no_grad())
                entry["vs_onnxruntime_max_rel_diff"] = OnnxResNet18Command.MaxRelativeDiffToOnnxRuntime(onnx, images, network.call(images).flatten(1));
            entry["image_size"] = side;
            report["onnx_resnet18"] = entry;
        }
        if (only.Contains("onnx_mobilenet_like"))
        {
            using var scope = NewDisposeScope();
            var file = WriteMobileNetLike(Path.Combine(outDir, "mobilenet-like.onnx"), size);
            var (network, vsRuntime) = OnnxNetwork.Import(file, imageShape: null, tolerance: 1e-4);
            using var _ = network;
            var images = randn([batch, 3, size, size], generator: new Generator(7));
            var entry = Measure("onnx_mobilenet_like", network, images, network.call, r => r.Logits, rounds);
            entry["vs_onnxruntime_max_rel_diff"] = vsRuntime;
            entry["onnx"] = "written by this command: MobileNetV3-Small's blocks (depthwise 3x3/5x5, Clip(0,6), HardSwish, squeeze-and-excitation with HardSigmoid), opset 14, random weights";
            report["onnx_mobilenet_like"] = entry;
        }

        var path = Path.Combine(outDir, "layer-mask-models.json");
        var json = report.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        File.WriteAllText(path, json);
        Console.WriteLine(json);
        Console.WriteLine($"wrote {path}");
        return 0;
    }

    /// <summary>
    /// Writes a MobileNetV3-Small-like ONNX file with random weights (seeded): a stride-2 stem, eight inverted residual
    /// blocks of MobileNetV3-Small's widths, kernels and strides (ReLU6 as Clip(0, 6) where V3 has ReLU), squeeze-and-excitation
    /// with HardSigmoid where V3 has it, a 1×1 convolution to 576 channels, global pool and a Gemm/HardSwish/Gemm classifier.
    /// </summary>
    internal static string WriteMobileNetLike(string path, int size)
    {
        var b = new Microsoft.ML.Masking.Tests.TestDoubles.OnnxGraphBuilder(3, size, seed: 3, opset: 14);
        string Act(string x, bool hardSwish) => hardSwish ? b.Node("HardSwish", [x]) : b.Node("Clip", [x, b.Scalar(0f), b.Scalar(6f)]);
        var x = Act(b.BatchNorm(b.Conv(b.Input, 3, 16, 3, stride: 2, pad: 1, bias: false), 16), hardSwish: true);
        (long In, long Expand, long Out, long K, long S, bool Se, bool Hs)[] blocks =
        [
            (16, 16, 16, 3, 2, true, false), (16, 72, 24, 3, 2, false, false), (24, 88, 24, 3, 1, false, false),
            (24, 96, 40, 5, 2, true, true), (40, 240, 40, 5, 1, true, true), (40, 120, 48, 5, 1, true, true),
            (48, 288, 96, 5, 2, true, true), (96, 576, 96, 5, 1, true, true),
        ];
        foreach (var (cin, expand, cout, k, s, se, hs) in blocks)
        {
            var y = expand == cin ? x : Act(b.BatchNorm(b.Conv(x, cin, expand, 1, bias: false), expand), hs);
            y = Act(b.BatchNorm(b.Conv(y, expand, expand, k, stride: s, pad: k / 2, group: expand, bias: false), expand), hs);
            if (se)
            {
                long squeeze = Math.Max(8, (expand / 4 + 4) / 8 * 8);
                var scale = b.Node("Relu", [b.Conv(b.Node("GlobalAveragePool", [y]), expand, squeeze, 1)]);
                scale = b.Node("HardSigmoid", [b.Conv(scale, squeeze, expand, 1)], ("alpha", 1f / 6), ("beta", 0.5f));
                y = b.Node("Mul", [y, scale]);
            }
            y = b.BatchNorm(b.Conv(y, expand, cout, 1, bias: false), cout);
            x = s == 1 && cin == cout ? b.Node("Add", [x, y]) : y;
        }
        x = Act(b.BatchNorm(b.Conv(x, 96, 576, 1, bias: false), 576), hardSwish: true);
        x = b.Node("Flatten", [b.Node("GlobalAveragePool", [x])]);
        x = b.Node("Dropout", [b.Node("HardSwish", [b.Gemm(x, 576, 1024)])]);
        return b.Save(b.Gemm(x, 1024, 1000), path);
    }

    /// <param name="key">The report's name of the network.</param>
    /// <param name="network">The network, in evaluation mode.</param>
    /// <param name="images">The batch to score.</param>
    /// <param name="plainForward">The module's own forward pass to compare with and to time as "plain".</param>
    /// <param name="output">What of a layer-masked pass is compared with <paramref name="plainForward"/> (logits, or the
    /// features of a backbone without a trained head).</param>
    /// <param name="rounds">Timed rounds.</param>
    private static JsonObject Measure(string key, nn.Module<Tensor, Tensor> network, Tensor images, Func<Tensor, Tensor> plainForward,
        Func<MaskedForwardResult, Tensor> output, int rounds)
    {
        Console.WriteLine($"== {key}, {images.shape[0]}×{images.shape[2]}×{images.shape[3]}");
        using var noGrad = no_grad();
        long batch = images.shape[0], side = images.shape[2];
        using var masked = LayerMaskedNetwork.Create(network);
        Tensor Output(MaskedForwardResult r) => output(r);
        var plain = plainForward(images);
        double scale = plain.abs().max().item<float>();
        double allOnes = Output(masked.ForwardWithFeatures(images, ones(batch, side, side))).sub(plain).abs().max().item<float>();

        var generator = new Generator(9);
        long cells = side / 16;
        var keep = nn.functional.interpolate(
            rand([batch, 1, cells, cells], generator: generator).ge(0.5).to(ScalarType.Float32),
            scale_factor: [16, 16], mode: InterpolationMode.Nearest);
        var other = where(keep.eq(0), randn(images.shape, generator: generator).mul_(100f), images);
        double invariance = Output(masked.ForwardWithFeatures(images, keep)).sub(Output(masked.ForwardWithFeatures(other, keep))).abs().max().item<float>();

        static void Time(Func<Tensor> forward)
        {
            using var s = NewDisposeScope();
            forward();
        }
        var medians = Stopwatches.Interleaved(
        [
            ("plain", () => Time(() => plainForward(images))),
            ("masked", () => Time(() => masked.Forward(images, keep))),
        ], warmup: 1, rounds: rounds, progress: Console.WriteLine);
        return new JsonObject
        {
            ["output_scale"] = scale,
            ["all_ones_max_abs_diff"] = allOnes,
            ["invariance_max_abs_diff"] = invariance,
            ["plain_ms"] = Math.Round(medians["plain"] * 1000, 1),
            ["masked_ms"] = Math.Round(medians["masked"] * 1000, 1),
            ["masked_over_plain"] = Math.Round(medians["masked"] / medians["plain"], 3),
        };
    }
}
