using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Masking.Attribution.Engine;

namespace Microsoft.ML.Masking.Samples.Commands;

/// <summary>
/// Summarises a grid of <c>ensemble</c> runs (one folder per split × seed, each with its ensemble.json): for every
/// variant and metric the mean ± standard error over runs, and the paired difference from the deep ensemble of the
/// same run (same split, seed and member seeds), which is the comparison the issue's goal is about. Writes
/// DIR/ensemble-grid.json and DIR/ensemble-grid.md.
/// </summary>
public sealed class EnsembleGridCommand : ISampleCommand
{
    /// <inheritdoc/>
    public string Name => "ensemble-grid";

    /// <inheritdoc/>
    public string Summary => "summarise ensemble runs (mean ± SE, paired differences from the deep ensemble); --runs DIR (folders with ensemble.json) --out DIR";

    // Variant key in ensemble.json → row name.
    private static readonly (string Key, string Name)[] Variants =
    [
        ("dynamic_mask", "dynamic-mask ensemble"),
        ("baseline_deep_ensemble", "deep ensemble"),
        ("ablation_gate_off", "gate off"),
        ("ablation_no_distillation", "no distillation"),
        ("baseline_wide_single", "wide single"),
        ("baseline_single_msp", "single (member 0)"),
    ];

    // Metric name → where it is in a variant's object (the wide and plain single models keep a flatter record).
    private static readonly (string Name, string[][] Paths)[] Metrics =
    [
        ("closed_set_accuracy", [["closed_set_accuracy"]]),
        ("msp_auroc", [["open_set_auroc"]]),
        ("msp_fpr95", [["fpr95"]]),
        ("energy_auroc", [["scores", "Energy", "auroc"], ["energy_auroc"]]),
        ("mutual_information_auroc", [["scores", "MutualInformation", "auroc"]]),
        ("gate_closure_auroc", [["scores", "GateClosure", "auroc"]]),
        ("noise_0.1_accuracy", [["corruption_accuracy", "gaussian_noise_0.1"]]),
        ("blur_accuracy", [["corruption_accuracy", "blur_sigma_1"]]),
        ("grey_12x12_accuracy", [["corruption_accuracy", "grey_paint_12x12"]]),
        ("layer_mask_12x12_accuracy", [["corruption_accuracy", "layer_mask_12x12"]]),
        ("pairwise_disagreement", [["diversity", "pairwise_disagreement"]]),
        ("saliency_rank_correlation", [["diversity", "saliency_rank_correlation"]]),
        ("training_seconds", [["training_seconds"]]),
    ];

    /// <inheritdoc/>
    public int Run(SampleArguments args)
    {
        string runsDir = args.String("runs", "");
        string outDir = args.String("out", "");
        args.EnsureAllUsed();
        if (runsDir.Length == 0 || !Directory.Exists(runsDir))
            throw new ArgumentException($"--runs DIR must be a folder of ensemble runs (each a folder with ensemble.json); '{runsDir}' is not a folder.");
        if (outDir.Length == 0)
            throw new ArgumentException("--out DIR is required: ensemble-grid.json and ensemble-grid.md go there.");
        var runs = Directory.GetDirectories(runsDir).Order(StringComparer.Ordinal)
            .Select(d => Path.Combine(d, "ensemble.json")).Where(File.Exists)
            .Select(p => (Path: p, Report: JsonNode.Parse(File.ReadAllText(p))!.AsObject())).ToArray();
        if (runs.Length == 0)
            throw new ArgumentException($"No ensemble.json under the folders of '{runsDir}'.");
        Directory.CreateDirectory(outDir);

        var summary = new JsonObject();
        var md = new StringBuilder();
        md.AppendLine($"{runs.Length} runs: " + string.Join(", ", runs.Select(r => $"split {r.Report["split"]} seed {r.Report["seed"]}")) + ".");
        md.AppendLine();
        md.AppendLine("Mean ± standard error over runs; Δ = paired difference from the deep ensemble of the same run (mean ± SE).");
        md.AppendLine();
        md.AppendLine("| variant | " + string.Join(" | ", Metrics.Select(m => m.Name)) + " |");
        md.AppendLine("| --- |" + string.Concat(Metrics.Select(_ => " --- |")));
        foreach (var (key, name) in Variants)
        {
            var present = runs.Where(r => r.Report[key] is JsonObject).ToArray();
            if (present.Length == 0) continue;
            var entry = new JsonObject { ["runs"] = present.Length };
            var cells = new List<string>();
            var deltas = new List<string>();
            foreach (var (metric, paths) in Metrics)
            {
                var pairs = present.Select(r => (Value: Value(r.Report[key]!, paths), Baseline: Value(r.Report["baseline_deep_ensemble"]!, paths)))
                    .Where(p => p.Value is not null).ToArray();
                if (pairs.Length == 0) { cells.Add("–"); deltas.Add("–"); continue; }
                var (mean, se) = MeanAndError(pairs.Select(p => p.Value!.Value));
                var stat = new JsonObject { ["mean"] = Round(mean), ["se"] = Round(se), ["n"] = pairs.Length };
                cells.Add(Format(mean, se));
                var paired = pairs.Where(p => p.Baseline is not null).Select(p => p.Value!.Value - p.Baseline!.Value).ToArray();
                if (key != "baseline_deep_ensemble" && paired.Length > 0)
                {
                    var (dm, ds) = MeanAndError(paired);
                    stat["paired_difference_from_deep_ensemble"] = new JsonObject { ["mean"] = Round(dm), ["se"] = Round(ds), ["n"] = paired.Length };
                    deltas.Add("Δ " + Format(dm, ds, signed: true));
                }
                else deltas.Add("–");
                entry[metric] = stat;
            }
            summary[key] = entry;
            md.AppendLine($"| {name} | " + string.Join(" | ", cells) + " |");
            if (key != "baseline_deep_ensemble")
                md.AppendLine("|  | " + string.Join(" | ", deltas) + " |");
        }
        var costs = runs.Select(r => r.Report["inference_cost_ratio"]?.GetValue<double>()).Where(v => v is not null).Select(v => v!.Value).ToArray();
        if (costs.Length > 0)
        {
            var (cm, cs) = MeanAndError(costs);
            summary["inference_cost_ratio"] = new JsonObject { ["mean"] = Round(cm), ["se"] = Round(cs), ["n"] = costs.Length };
            md.AppendLine();
            md.AppendLine($"Inference cost DME/DE per run (not quiet runs): {string.Join(", ", costs.Select(c => c.ToString("0.000", CultureInfo.InvariantCulture)))}; mean {Format(cm, cs)}.");
        }
        var report = new JsonObject
        {
            ["runs"] = new JsonArray(runs.Select(r => (JsonNode)Path.GetRelativePath(runsDir, r.Path)).ToArray()),
            ["summary"] = summary,
        };
        File.WriteAllText(Path.Combine(outDir, "ensemble-grid.json"), report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllText(Path.Combine(outDir, "ensemble-grid.md"), md.ToString());
        Console.Write(md.ToString());
        Console.WriteLine($"wrote {Path.Combine(outDir, "ensemble-grid.json")} and ensemble-grid.md");
        return 0;
    }

    private static double? Value(JsonNode variant, string[][] paths)
    {
        // A layer-masked accuracy counts only where the run's keep-all self-check held (older runs wrote figures for
        // spatial gates that the sample did not compose; their self-check says so).
        if (paths[0] is [.., "layer_mask_12x12"] && Value(variant, [["corruption_accuracy", "layer_mask_keep_all_max_deviation"]]) is > 1e-4)
            return null;
        foreach (var path in paths)
        {
            JsonNode? node = variant;
            foreach (var step in path)
                node = node is JsonObject o && o.TryGetPropertyValue(step, out var next) ? next : null;
            if (node is JsonValue v && v.TryGetValue<double>(out double d) && double.IsFinite(d))
                return d;
        }
        return null;
    }

    private static (double Mean, double StandardError) MeanAndError(IEnumerable<double> values)
    {
        var accumulator = new MetricAccumulator();
        foreach (double v in values)
            accumulator.Add(v);
        return (accumulator.Mean, accumulator.StandardError);
    }

    private static JsonNode? Round(double v) => double.IsFinite(v) ? JsonValue.Create(Math.Round(v, 5)) : null;

    private static string Format(double mean, double se, bool signed = false) =>
        (signed && mean >= 0 ? "+" : "") + mean.ToString("0.000", CultureInfo.InvariantCulture) +
        (double.IsFinite(se) ? " ± " + se.ToString("0.000", CultureInfo.InvariantCulture) : "");
}
