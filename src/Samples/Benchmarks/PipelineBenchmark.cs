using System.Text.Json.Nodes;

namespace Microsoft.ML.Masking.Samples.Benchmarks;

/// <summary>LayerMask through an IDataView pipeline versus a raw batched TorchSharp forward (filled in with the transform).</summary>
public static class PipelineBenchmark
{
    /// <summary>Returns the pipeline figures to merge into the benchmark report.</summary>
    public static IEnumerable<KeyValuePair<string, JsonNode?>> Measure(int batch, int rounds) => [];
}
