using Microsoft.ML.Data;

namespace Microsoft.ML.Masking.Tests.TestDoubles;

/// <summary>Small in-memory data for the batching and persistence tests.</summary>
internal static class TestData
{
    public const int FeatureSize = 6;
    public static readonly string[] Classes = ["cat", "dog", "bird"];

    public sealed class Row
    {
        public int Id { get; set; }
        public string Text { get; set; } = "";

        [VectorType(FeatureSize)]
        public float[] Features { get; set; } = [];
    }

    public sealed class Prediction
    {
        public int Id { get; set; }

        [VectorType(3)]
        public float[] Score { get; set; } = [];

        [KeyType(3)]
        public uint PredictedLabel { get; set; }

        public float MaxScore { get; set; }
    }

    /// <summary><paramref name="count"/> rows with distinct ids, texts and deterministic features.</summary>
    public static Row[] Rows(int count, int seed = 7)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i => new Row
        {
            Id = i,
            Text = $"row {i}",
            Features = Enumerable.Range(0, FeatureSize).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(),
        }).ToArray();
    }

    public static LinearTestTransformer Transformer(MLContext ml, int batchSize, long seed = 3) =>
        new(ml, "Features", FeatureSize, Classes, batchSize, seed);

    /// <summary>Reads every value of a scalar column with a fresh cursor.</summary>
    public static List<T> Column<T>(IDataView data, string name)
    {
        var column = data.Schema[name];
        var values = new List<T>();
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<T>(column);
        T value = default!;
        while (cursor.MoveNext())
        {
            getter(ref value);
            values.Add(value);
        }
        return values;
    }

    /// <summary>Every row's vector of a float-vector column, copied out (getters reuse their buffers).</summary>
    public static List<float[]> Vectors(IDataView data, string name)
    {
        var column = data.Schema[name];
        var values = new List<float[]>();
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> value = default;
        while (cursor.MoveNext())
        {
            getter(ref value);
            values.Add(value.DenseValues().ToArray());
        }
        return values;
    }
}
