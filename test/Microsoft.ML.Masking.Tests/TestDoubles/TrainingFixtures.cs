using Microsoft.ML.Data;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Training;

namespace Microsoft.ML.Masking.Tests.TestDoubles;

/// <summary>Small, fast training set-ups for the trainer tests.</summary>
internal static class TrainingFixtures
{
    public static readonly ShapeKind[] FourShapes = [ShapeKind.Circle, ShapeKind.Square, ShapeKind.Triangle, ShapeKind.Cross];

    /// <summary>16×16 shapes of four classes, objects at least 60 % of the maximum size.</summary>
    public static IDataView Shapes(MLContext ml, int count, long seed) => ml.Data.LoadShapes(new ShapesOptions
    {
        ImageSize = 16, Count = count, Seed = seed, Shapes = FourShapes, MinRadiusFraction = 0.6,
    });

    /// <summary>A one-block, eight-channel ResNet trained for two epochs on two threads: well under a second.</summary>
    public static ResNetTrainer.Options TinyOptions() => new()
    {
        Architecture = new ResNetArchitecture { Layers = [1], BaseWidth = 8, SmallImageStem = true },
        Epochs = 2,
        BatchSize = 32,
        LearningRate = 0.05,
        RandomCropPadding = 2,
        NumberOfThreads = 2,
    };

    /// <summary>
    /// A row of hand-made data: a flat image vector and a key label. LoadFromEnumerable reads a [KeyType(n)] field
    /// as 0-based (0 becomes key 1) and turns values of n or more into the missing key 0.
    /// </summary>
    public sealed class KeyedRow
    {
        [VectorType(16)]
        public float[] Image { get; set; } = new float[16];

        [KeyType(3)]
        public uint Label { get; set; }
    }

    /// <summary><paramref name="count"/> 4×4 grey images with labels cycling over three classes.</summary>
    public static KeyedRow[] KeyedRows(int count, int seed = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i => new KeyedRow
        {
            Image = Enumerable.Range(0, 16).Select(_ => (float)random.NextDouble()).ToArray(),
            Label = (uint)(i % 3),
        }).ToArray();
    }
}
