using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Tests.LayerMasking;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Attribution;

/// <summary>Small images, a small ResNet and linear ML.NET models for the attribution tests.</summary>
internal static class AttributionTestData
{
    /// <summary>The CNN's images: 3×16×16.</summary>
    public const int CnnSide = 16;
    public const int CnnSize = 3 * CnnSide * CnnSide;

    /// <summary>The linear models' images: 2×6×6.</summary>
    public const int LinearChannels = 2;
    public const int LinearSide = 6;
    public const int LinearSize = LinearChannels * LinearSide * LinearSide;
    public const int LinearClasses = 3;

    public static readonly ChannelNormalization CnnNormalization = new([0.45f, 0.5f, 0.55f], [0.25f, 0.2f, 0.3f]);

    public sealed class CnnRow
    {
        [VectorType(CnnSize)]
        public float[] Image { get; set; } = [];

        [VectorType(CnnSide * CnnSide)]
        public float[] Segments { get; set; } = [];
    }

    public sealed class LinearRow
    {
        [VectorType(LinearSize)]
        public float[] Image { get; set; } = [];

        [VectorType(LinearSide * LinearSide)]
        public float[] Segments { get; set; } = [];
    }

    /// <summary>What the linear CustomMapping reads: the image only.</summary>
    public sealed class LinearImage
    {
        [VectorType(LinearSize)]
        public float[] Image { get; set; } = [];
    }

    public sealed class LinearScore
    {
        [VectorType(LinearClasses)]
        public float[] Score { get; set; } = [];
    }

    /// <summary>A small ResNet (two stages, width 8, 4 classes) with non-trivial BatchNorm statistics, in eval mode.</summary>
    public static ResNet Cnn(long seed = 5) => TestNetworks.WithRandomBatchNorm(
        new ResNet(new ResNetArchitecture { Layers = [1, 1], BaseWidth = 8, NumClasses = 4, InputChannels = 3, SmallImageStem = true }, seed), seed + 100);

    /// <summary>The one classifier description of <paramref name="network"/> (a fresh <see cref="Cnn"/> when null) on 3×16×16 images.</summary>
    public static ImageClassifier CnnClassifier(ResNet? network = null) =>
        ImageClassifier.FromModule(network ?? Cnn(), CnnNormalization, new Masking.Data.ImageShape(3, CnnSide, CnnSide));

    /// <summary>Random pixels in [0, 1].</summary>
    public static float[] Pixels(int size, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, size).Select(_ => (float)random.NextDouble()).ToArray();
    }

    /// <summary>4×4-patch segment ids of a <paramref name="side"/>² image.</summary>
    public static float[] PatchIds(int side, int patch) =>
        Enumerable.Range(0, side * side).Select(p => (float)(p / side / patch * ((side + patch - 1) / patch) + p % side / patch)).ToArray();

    public static IDataView CnnData(MLContext ml, int count, int seed = 1) =>
        ml.Data.LoadFromEnumerable(Enumerable.Range(0, count).Select(i => new CnnRow { Image = Pixels(CnnSize, seed * 1000 + i), Segments = PatchIds(CnnSide, 4) }).ToArray());

    public static IDataView LinearData(MLContext ml, int count, int seed = 1) =>
        ml.Data.LoadFromEnumerable(Enumerable.Range(0, count).Select(i => new LinearRow { Image = Pixels(LinearSize, seed * 1000 + i), Segments = PatchIds(LinearSide, 2) }).ToArray());

    /// <summary>Seeded weights [classes, LinearSize] of the linear score Wx + b.</summary>
    public static float[,] LinearWeights(int seed = 9)
    {
        var random = new Random(seed);
        var w = new float[LinearClasses, LinearSize];
        for (int k = 0; k < LinearClasses; k++)
            for (int i = 0; i < LinearSize; i++)
                w[k, i] = (float)(random.NextDouble() * 2 - 1);
        return w;
    }

    /// <summary>A non-TorchSharp ML.NET transformer: Score = W·Image + b, through CustomMapping.</summary>
    public static ITransformer LinearScorer(MLContext ml, float[,] weights, IDataView data)
    {
        var w = weights;
        var estimator = ml.Transforms.CustomMapping<LinearImage, LinearScore>((input, output) =>
        {
            var score = new float[LinearClasses];
            for (int k = 0; k < LinearClasses; k++)
            {
                double sum = 0.1 * k;
                for (int i = 0; i < LinearSize; i++) sum += w[k, i] * input.Image[i];
                score[k] = (float)sum;
            }
            output.Score = score;
        }, contractName: null);
        return estimator.Fit(data);
    }

    /// <summary>Every row's values of a float-vector column.</summary>
    public static float[][] Vectors(IDataView data, string column) =>
        TestDoubles.TestData.Vectors(data, column).ToArray();

    /// <summary>Every row's value of a float column.</summary>
    public static float[] Floats(IDataView data, string column) => TestDoubles.TestData.Column<float>(data, column).ToArray();

    /// <summary>The largest |a − b| relative to the largest |b| (at least <paramref name="floor"/>).</summary>
    public static double RelativeDifference(float[][] a, float[][] b, double floor = 1e-6)
    {
        double scale = Math.Max(floor, b.SelectMany(v => v).Max(v => Math.Abs(v)));
        return a.Zip(b).SelectMany(p => p.First.Zip(p.Second, (x, y) => Math.Abs(x - y))).Max() / scale;
    }

    /// <summary>Images of <paramref name="data"/> as a tensor [N, C, H, W].</summary>
    public static Tensor ImageTensor(IDataView data, int channels, int side)
    {
        var rows = Vectors(data, "Image");
        return tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, channels, side, side]);
    }
}
