using System.Text.Json.Nodes;
using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.LayerMasking.Engine;
using Microsoft.ML.Masking.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Samples.Benchmarks;

/// <summary>
/// Throughput of <c>LayerMask</c> through an IDataView pipeline (rows in, scores read with a cursor) divided by
/// the throughput of the same layer-masked forward passes on tensors already batched in memory.
/// </summary>
public static class PipelineBenchmark
{
    private const int Side = 64;

    private sealed class Row
    {
        public float[] Image { get; set; } = [];
        public float[] Mask { get; set; } = [];
    }

    /// <summary>Returns the pipeline figures to merge into the benchmark report.</summary>
    public static IEnumerable<KeyValuePair<string, JsonNode?>> Measure(int batch, int rounds, int rows = 256)
    {
        Console.WriteLine($"== LayerMask pipeline vs raw batched forward, ResNet-18 {Side}x{Side}, {rows} rows, batch {batch}");
        var network = new ResNet(ResNetArchitecture.ResNet18(numClasses: 10), seed: 1);
        network.eval();
        var random = new Random(3);
        var data = Enumerable.Range(0, rows).Select(_ => new Row
        {
            Image = Enumerable.Range(0, 3 * Side * Side).Select(_ => (float)random.NextDouble()).ToArray(),
            Mask = PatchMask(random),
        }).ToArray();

        var ml = new MLContext(seed: 1);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Image)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3 * Side * Side);
        schema[nameof(Row.Mask)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Side * Side);
        var view = ml.Data.LoadFromEnumerable(data, schema);
        using var transformer = ml.Transforms.LayerMask(new LayerMaskingOptions
        {
            Classifier = ImageClassifier.FromModule(network, ChannelNormalization.Identity(3), new Microsoft.ML.Masking.Data.ImageShape(3, Side, Side)),
            BatchSize = batch,
        }).Fit(view);

        using var classifier = new MaskedClassifier(network, MaskingMethod.LayerMasking, ChannelNormalization.Identity(3));
        var images = Enumerable.Range(0, (rows + batch - 1) / batch).Select(b =>
        {
            var slice = data.Skip(b * batch).Take(batch).ToArray();
            var x = tensor(slice.SelectMany(r => r.Image).ToArray()).reshape(slice.Length, 3, Side, Side).DetachFromDisposeScope();
            var m = tensor(slice.SelectMany(r => r.Mask).ToArray()).reshape(slice.Length, Side, Side).DetachFromDisposeScope();
            return (x, m);
        }).ToArray();

        var medians = Stopwatches.Interleaved(
        [
            ("pipeline", () => ReadScores(transformer.Transform(view))),
            ("raw", () =>
            {
                foreach (var (x, m) in images)
                {
                    using var scope = NewDisposeScope();
                    using var noGrad = no_grad(); // as the transformer runs it
                    classifier.Forward(x, m).Logits.softmax(1).data<float>().ToArray();
                }
            }),
        ], warmup: 1, rounds: rounds, progress: Console.WriteLine);
        foreach (var (x, m) in images) { x.Dispose(); m.Dispose(); }

        return
        [
            new("pipeline_over_raw", Math.Round(medians["raw"] / medians["pipeline"], 3)),
            new("pipeline", new JsonObject
            {
                ["rows"] = rows,
                ["pipeline_rows_per_second"] = Math.Round(rows / medians["pipeline"], 1),
                ["raw_rows_per_second"] = Math.Round(rows / medians["raw"], 1),
            }),
        ];
    }

    private static float[] PatchMask(Random random)
    {
        const int patch = 8;
        var mask = new float[Side * Side];
        for (int py = 0; py < Side / patch; py++)
            for (int px = 0; px < Side / patch; px++)
            {
                float keep = random.NextDouble() < 0.5 ? 0f : 1f;
                for (int y = 0; y < patch; y++)
                    for (int x = 0; x < patch; x++)
                        mask[(py * patch + y) * Side + px * patch + x] = keep;
            }
        return mask;
    }

    private static void ReadScores(IDataView scored)
    {
        var column = scored.Schema["Score"];
        using var cursor = scored.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> value = default;
        while (cursor.MoveNext()) getter(ref value);
    }
}
