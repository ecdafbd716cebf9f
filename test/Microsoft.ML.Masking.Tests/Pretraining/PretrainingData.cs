using Microsoft.ML.Data;
using Microsoft.ML.Masking.Pretraining;
using Microsoft.ML.Masking.Pretraining.Engine;

namespace Microsoft.ML.Masking.Tests.Pretraining;

/// <summary>Tiny images and options for the pre-training tests: 8 × 8 grey images, 2 px patches, one block each.</summary>
internal static class PretrainingData
{
    public const int Side = 8;

    public sealed class Row
    {
        [VectorType(Side * Side)]
        public float[] Image { get; set; } = [];

        [KeyType(2)]
        public uint Label { get; set; }
    }

    /// <summary>Two classes: a bright square in the left or the right half, on noise.</summary>
    public static Row[] Rows(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            var image = new float[Side * Side];
            for (int p = 0; p < image.Length; p++) image[p] = (float)random.NextDouble() * 0.3f;
            int left = i % 2 == 0 ? 0 : Side / 2, top = random.Next(0, Side / 2);
            for (int y = top; y < top + 3; y++)
                for (int x = left; x < left + 3; x++)
                    image[y * Side + x] = 1f;
            return new Row { Image = image, Label = (uint)(i % 2 + 1) };
        }).ToArray();
    }

    public static IDataView Data(MLContext ml, int count, int seed) => ml.Data.LoadFromEnumerable(Rows(count, seed));

    public static MaskedAutoencoderPretrainer.Options Options(MaskingStrategy masking = MaskingStrategy.Adversarial) => new()
    {
        Architecture = MaskedAutoencoderEngineTests.Tiny,
        Masking = masking,
        Epochs = 2,
        BatchSize = 8,
        WarmupEpochs = 0,
        LearningRate = 3e-3,
        MaskingNetworkChannels = 4,
        NumberOfThreads = 1,
        InferenceBatchSize = 7,
        AdversarialShareRamp = 0,
    };
}
