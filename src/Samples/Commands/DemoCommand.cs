using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.LayerMasking.Engine;
using Microsoft.ML.Masking.Samples.Models;
using Microsoft.ML.Masking.Samples.Reports;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Samples.Commands;

/// <summary>
/// The README's demo: a small ResNet that knows the synthetic shapes, a few test images with half of their 8×8
/// patches removed, and for each the input the first convolution sees under layer masking next to the grey and
/// black baselines, with what the network predicts under each. Writes demo.png, demo.html and demo.json.
/// </summary>
public sealed class DemoCommand : ISampleCommand
{
    private const int Side = 32;
    private const int Patch = 8;

    /// <inheritdoc/>
    public string Name => "demo";

    /// <inheritdoc/>
    public string Summary => "layer-mask a few shapes images next to grey/black baselines; --out DIR [--model model.zip (default DIR/model.zip; trained if absent)] [--images N] [--seed S]";

    /// <inheritdoc/>
    public int Run(SampleArguments args)
    {
        var outDir = args.String("out", "out/demo");
        var modelPath = args.String("model", Path.Combine(outDir, "model.zip"));
        int count = args.Int("images", 4);
        int seed = args.Int("seed", 1);
        args.EnsureAllUsed();
        Directory.CreateDirectory(outDir);

        var ml = new MLContext(seed: seed);
        var classifierModel = ShapesClassifier.LoadOrTrain(ml, modelPath, Side, Console.WriteLine);
        var network = classifierModel.ResNet;
        var normalization = classifierModel.Normalization;
        var shapes = new ShapesGenerator(new ShapesOptions { ImageSize = Side, Seed = ShapesClassifier.TestSeed });
        var classes = shapes.ClassNames;

        var samples = Enumerable.Range(0, count).Select(i => shapes.Render(i)).ToArray();
        var pixels = tensor(samples.SelectMany(s => s.Image).ToArray()).reshape(count, 3, Side, Side);
        var keep = RandomPatchMasks(count, seed);

        var methods = new[] { MaskingMethod.LayerMasking, MaskingMethod.Grey, MaskingMethod.Black };
        var probabilities = new Dictionary<string, Tensor>();
        using var noGrad = torch.no_grad(); // scoring only: no autograd graph
        using (var clean = new MaskedClassifier(network, MaskingMethod.LayerMasking, normalization))
            probabilities["clean"] = clean.Forward(pixels, ones(count, Side, Side)).Logits.softmax(1);
        foreach (var method in methods)
        {
            using var classifier = new MaskedClassifier(network, method, normalization);
            probabilities[method.ToString()] = classifier.Forward(pixels, keep).Logits.softmax(1);
        }

        // What each method hands the first convolution, shown in pixel space.
        var normalized = normalization.Apply(pixels);
        int stemIterations = network.Architecture.StemKernelSize; // the reference pads k times before a k×k convolution
        var views = new Dictionary<string, Tensor>
        {
            ["image"] = pixels,
            ["keep-mask"] = keep.unsqueeze(1),
            ["layer masking: first conv input"] = Denormalize(NeighbourPadding.Pad(normalized, keep.unsqueeze(1), stemIterations), normalization),
            ["grey"] = Denormalize(InputMasking.Apply(MaskingMethod.Grey, normalized, keep.unsqueeze(1), normalization.Black(CPU), 1, null), normalization),
            ["black"] = Denormalize(InputMasking.Apply(MaskingMethod.Black, normalized, keep.unsqueeze(1), normalization.Black(CPU), 1, null), normalization),
        };

        var rows = new List<IReadOnlyList<PixelImage>>();
        var report = new JsonArray();
        for (int i = 0; i < count; i++)
        {
            rows.Add(views.Values.Select(v => Picture(v[i])).ToArray());
            var entry = new JsonObject { ["index"] = i, ["true_class"] = classes[samples[i].Label], ["kept_fraction"] = Math.Round(keep[i].mean().item<float>(), 3) };
            foreach (var (name, p) in probabilities)
            {
                int top = (int)p[i].argmax().item<long>();
                entry[name] = new JsonObject { ["class"] = classes[top], ["probability"] = Math.Round(p[i, top].item<float>(), 4), ["p_true"] = Math.Round(p[i, samples[i].Label].item<float>(), 4) };
            }
            report.Add(entry);
        }

        var grid = PixelImage.Grid(rows);
        grid.Save(Path.Combine(outDir, "demo.png"));
        File.WriteAllText(Path.Combine(outDir, "demo.json"), new JsonObject { ["columns"] = new JsonArray(views.Keys.Select(k => (JsonNode)k).ToArray()), ["images"] = report }
            .ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllText(Path.Combine(outDir, "demo.html"), Html(views.Keys.ToArray(), rows, report));
        foreach (var entry in report)
            Console.WriteLine($"image {entry!["index"]}: true {entry["true_class"]}; " +
                string.Join("; ", probabilities.Keys.Select(k => $"{k} → {entry[k]!["class"]} ({entry[k]!["probability"]})")));
        Console.WriteLine($"wrote {Path.Combine(outDir, "demo.png")}, demo.html and demo.json");
        return 0;
    }

    /// <summary>Keep-masks that remove each 8×8 patch with probability ½ (a fixed seed, so the demo repeats).</summary>
    private static Tensor RandomPatchMasks(int count, int seed)
    {
        var generator = new Generator((ulong)seed);
        var coarse = rand(new long[] { count, 1, Side / Patch, Side / Patch }, generator: generator).ge(0.5).to(ScalarType.Float32);
        return nn.functional.interpolate(coarse, scale_factor: [Patch, Patch], mode: InterpolationMode.Nearest).squeeze(1);
    }

    private static Tensor Denormalize(Tensor normalized, ChannelNormalization n) =>
        normalized * tensor(n.StandardDeviation.ToArray()).view(1, -1, 1, 1) + tensor(n.Mean.ToArray()).view(1, -1, 1, 1);

    private static PixelImage Picture(Tensor chw) =>
        PixelImage.FromPlanar(chw.contiguous().data<float>().ToArray(), (int)chw.shape[0], Side, Side, scale: 4);

    private static string Html(string[] columns, List<IReadOnlyList<PixelImage>> rows, JsonArray report)
    {
        var html = new StringBuilder();
        html.AppendLine("<!doctype html><meta charset=\"utf-8\"><title>Layer masking demo</title>");
        html.AppendLine("<style>body{font-family:sans-serif}td{padding:4px;vertical-align:top;font-size:13px}th{font-size:13px}</style>");
        html.AppendLine("<h1>Layer masking demo</h1><p>Half of each image's 8×8 patches are removed. Layer masking hands the first convolution the kept pixels plus a neighbour-padded border (the rest is never read); grey and black paint the hole.</p>");
        html.AppendLine("<table><tr>" + string.Concat(columns.Select(c => $"<th>{WebUtility.HtmlEncode(c)}</th>")) + "<th>predictions</th></tr>");
        for (int i = 0; i < rows.Count; i++)
        {
            var entry = report[i]!;
            html.Append("<tr>");
            foreach (var picture in rows[i])
                html.Append($"<td><img src=\"{picture.ToDataUri()}\"></td>");
            html.Append($"<td>true: <b>{entry["true_class"]}</b><br>");
            foreach (var key in new[] { "clean", "LayerMasking", "Grey", "Black" })
                html.Append($"{key}: {entry[key]!["class"]} ({entry[key]!["probability"]:0.00}), p(true) {entry[key]!["p_true"]}<br>");
            html.AppendLine("</td></tr>");
        }
        html.AppendLine("</table>");
        return html.ToString();
    }
}
