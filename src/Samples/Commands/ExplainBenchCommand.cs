using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Data;
using Microsoft.ML.Masking.Attribution;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Segmentation;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Evaluation;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Samples.Benchmarks;

namespace Microsoft.ML.Masking.Samples.Commands;

/// <summary>
/// Explanations per second of every attribution method on a ResNet-18 (ImageNet stem, random weights: speed does not
/// depend on training) over 64×64 shapes images, with the batch and sample counts of each, and LIME with layer masking
/// against LIME with grey paint, timed interleaved round by round in one run. Writes DIR/explain-bench.json.
/// </summary>
public sealed class ExplainBenchCommand : ISampleCommand
{
    private const int Side = 64;

    /// <inheritdoc/>
    public string Name => "explain-bench";

    /// <inheritdoc/>
    public string Summary => "explanations per second of every attribution method on ResNet-18 64×64, and LIME layer masking / grey; --out DIR [--n IMAGES] [--rounds R] [--quick]";

    /// <inheritdoc/>
    public int Run(SampleArguments args)
    {
        string outDir = args.String("out", "out/explain-bench");
        bool quick = args.Flag("quick");
        int n = args.Int("n", quick ? 2 : 8);
        int rounds = args.Int("rounds", quick ? 1 : 3);
        args.EnsureAllUsed();
        Directory.CreateDirectory(outDir);

        var ml = new MLContext(0);
        var network = new ResNet(ResNetArchitecture.ResNet18(numClasses: 10), seed: 1);
        network.eval();
        var classifier = ImageClassifier.FromModule(network, ChannelNormalization.ImageNet, new ImageShape(3, Side, Side));
        var data = ml.Data.Cache(ml.Data.LoadShapes(new ShapesOptions { ImageSize = Side, Count = n, Seed = 2 }));
        var attribution = ml.Transforms.Attribution();
        var patches = new SegmentationOptions { PatchSize = 8 };
        int samples = quick ? 64 : 512;
        const int pass = 64;
        var methods = new (string Name, string Setting, AttributionEstimator Estimator)[]
        {
            ("Saliency", "1 gradient pass", attribution.Saliency(new SaliencyOptions { Classifier = classifier, InternalBatchSize = pass })),
            ("InputXGradient", "1 gradient pass", attribution.InputXGradient(new InputXGradientOptions { Classifier = classifier, InternalBatchSize = pass })),
            ("IntegratedGradients", "50 Gauss–Legendre steps", attribution.IntegratedGradients(new IntegratedGradientsOptions { Classifier = classifier, Steps = 50, InternalBatchSize = pass })),
            ("SmoothGrad", "10 noisy copies", attribution.Saliency(new SaliencyOptions { Classifier = classifier, NoiseTunnel = new NoiseTunnelOptions { Samples = 10 }, InternalBatchSize = pass })),
            ("GradientShap", "20 samples", attribution.GradientShap(new GradientShapOptions { Classifier = classifier, Samples = 20, InternalBatchSize = pass })),
            ("GradCam", "layer4, 1 pass", attribution.GradCam(new GradCamOptions { Classifier = classifier, LayerName = "layer4", InternalBatchSize = pass })),
            ("Occlusion", "8×8 window, stride 4 (225 windows), layer masking", attribution.Occlusion(new OcclusionOptions { Classifier = classifier, Window = 8, Stride = 4, InternalBatchSize = pass })),
            ("FeatureAblation", "64 patches of 8×8, layer masking", attribution.FeatureAblation(new FeatureAblationOptions { Classifier = classifier, Segmentation = patches, InternalBatchSize = pass })),
            ("Rise", $"{(quick ? 64 : 500)} masks, 16 px cells, layer masking", attribution.Rise(new RiseOptions { Classifier = classifier, MaskCount = quick ? 64 : 500, CellSize = 16, InternalBatchSize = pass })),
            ("Lime", $"{samples} samples, 64 patches, layer masking", attribution.Lime(new LimeOptions { Classifier = classifier, Segmentation = patches, Samples = samples, InternalBatchSize = pass })),
            ("LimeShared", $"{samples} samples shared by the rows, 64 patches, layer masking", attribution.Lime(new LimeOptions { Classifier = classifier, Segmentation = patches, Samples = samples, InternalBatchSize = pass, ShareSamplesAcrossRows = true })),
            ("LimeGrey", $"{samples} samples, 64 patches, grey", attribution.Lime(new LimeOptions { Classifier = classifier, Segmentation = patches, Samples = samples, Removal = MaskingMethod.Grey, InternalBatchSize = pass })),
            ("KernelShap", $"{samples} samples, 64 patches, layer masking", attribution.KernelShap(new KernelShapOptions { Classifier = classifier, Segmentation = patches, Samples = samples, InternalBatchSize = pass })),
        };
        var models = methods.Select(m => (m.Name, Model: m.Estimator.Fit(data))).ToArray();
        void Explain(ITransformer model)
        {
            var output = model.Transform(data);
            var column = output.Schema["Attribution"];
            using var cursor = output.GetRowCursor([column]);
            var getter = cursor.GetGetter<VBuffer<float>>(column);
            VBuffer<float> value = default;
            while (cursor.MoveNext()) getter(ref value);
        }
        Console.WriteLine($"explain-bench: ResNet-18 on {n} images of 64×64, {rounds} interleaved round(s), {pass} images per pass, 16 rows per batch");
        var perRound = Stopwatches.InterleavedRounds(models.Select(m => (m.Name, (Action)(() => Explain(m.Model)))).ToArray(), warmup: 1, rounds: rounds,
            progress: Console.WriteLine);
        var seconds = perRound.ToDictionary(r => r.Key, r => Stopwatches.Median(r.Value));
        var report = new JsonObject();
        foreach (var (name, setting, _) in methods)
        {
            double perSecond = n / seconds[name];
            report[name] = new JsonObject { ["setting"] = setting, ["explanations_per_second"] = Math.Round(perSecond, 3), ["median_seconds"] = Math.Round(seconds[name], 3) };
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {setting} | {perSecond:F2} |"));
        }
        double ratio = seconds["LimeGrey"] / seconds["Lime"], shared = seconds["LimeGrey"] / seconds["LimeShared"];
        // The ratio of each round (the variants run back to back within a round, so they share its load) and of the fastest
        // rounds (the least disturbed by other processes on a shared machine).
        double[] RoundRatios(string layer) => perRound["LimeGrey"].Zip(perRound[layer], (g, l) => Math.Round(g / l, 3)).ToArray();
        double Fastest(string layer) => perRound["LimeGrey"].Min() / perRound[layer].Min();
        var json = new JsonObject
        {
            ["network"] = "ResNet-18 (ImageNet stem), 64×64, random weights",
            ["images"] = n,
            ["rounds"] = rounds,
            ["internal_batch_size"] = pass,
            ["rows_per_batch"] = 16,
            ["methods"] = report,
            ["lime_layer_over_grey_throughput"] = Math.Round(ratio, 3),
            ["lime_layer_shared_samples_over_grey_throughput"] = Math.Round(shared, 3),
            ["lime_ratio_per_round"] = new JsonArray(RoundRatios("Lime").Select(v => (JsonNode)v).ToArray()),
            ["lime_shared_ratio_per_round"] = new JsonArray(RoundRatios("LimeShared").Select(v => (JsonNode)v).ToArray()),
            ["lime_ratio_of_fastest_rounds"] = Math.Round(Fastest("Lime"), 3),
            ["lime_shared_ratio_of_fastest_rounds"] = Math.Round(Fastest("LimeShared"), 3),
            ["cpu"] = LayerMaskBenchCommand.CpuInfo(),
            ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
        };
        File.WriteAllText(Path.Combine(outDir, "explain-bench.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"explain-bench: LIME throughput, layer masking / grey = {ratio:F2} (samples shared by the rows: {shared:F2}); wrote {Path.Combine(outDir, "explain-bench.json")}"));
        return 0;
    }
}
