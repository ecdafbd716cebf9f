using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Models;
using static Microsoft.ML.Masking.Tests.LayerMasking.TestNetworks;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Evaluation;

/// <summary>Small synthetic images with labels, object masks, segmentations and attributions, and a random network to evaluate.</summary>
internal static class EvaluationTestData
{
    public const int Side = 16;
    public const int Pixels = Side * Side;
    public const int Channels = 3;
    public const int Classes = 5;

    public static readonly ChannelNormalization Normalization = new([0.45f, 0.5f, 0.55f], [0.25f, 0.2f, 0.3f]);

    /// <summary>The classifier description of <paramref name="network"/> for these images.</summary>
    public static ImageClassifier Classifier(ResNet network) =>
        ImageClassifier.FromModule(network, Normalization, new Microsoft.ML.Masking.Data.ImageShape(Channels, Side, Side));

    /// <summary>The network an evaluation's options hold.</summary>
    public static ResNet NetworkOf(Microsoft.ML.Masking.Evaluation.MaskingEvaluationOptions options) => (ResNet)options.Classifier!.Network;

    public sealed class Row
    {
        [VectorType(Channels * Pixels)]
        public float[] Image { get; set; } = [];

        /// <summary>The zero-based class: LoadFromEnumerable turns a [KeyType] uint v into the key v + 1.</summary>
        [KeyType(Classes)]
        public uint Label { get; set; }

        [VectorType(Pixels)]
        public float[] ObjectMask { get; set; } = [];

        [VectorType(Pixels)]
        public float[] Segments { get; set; } = [];

        [VectorType(Pixels)]
        public float[] Attribution { get; set; } = [];
    }

    /// <summary>
    /// A random 5-class ResNet for 16×16 RGB images. Its classifier is redrawn with a fixed generator and centred
    /// on the features of random images: a freshly initialised head predicts one class for almost every image,
    /// which would make the tests blind to what the masking does to the features.
    /// </summary>
    public static ResNet Network()
    {
        var network = SmallBasic(Side);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var generator = new Generator(21);
        var features = network.Features(Normalization.Apply(rand([64, Channels, Side, Side], generator: generator)));
        var weight = randn([Classes, features.shape[1]], generator: generator) / features.std(0).clamp_min(1e-6);
        var parameters = network.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        parameters["fc.weight"].copy_(weight);
        parameters["fc.bias"].copy_(-weight.matmul(features.mean([0])) + randn([Classes], generator: generator) * 0.1);
        return network;
    }

    /// <summary>
    /// <paramref name="count"/> images (smooth random colours in [0, 1] with a bright disc, the object), labelled so
    /// that exactly the even rows agree with the network's prediction on the whole image: clean accuracy is the
    /// share of even rows. Images whose two best logits are nearly tied are drawn again: the evaluators compute the
    /// clean predictions along another float path (folded BatchNorm, their own batches), and on a near-tie the
    /// arg-max could differ from the one here by rounding alone, on some CPUs and not others.
    /// </summary>
    public static Row[] Rows(ResNet network, int count, int seed = 5)
    {
        var random = new Random(seed);
        var rows = new List<Row>(count);
        while (rows.Count < count)
        {
            var candidates = Enumerable.Range(0, count - rows.Count).Select(_ => Draw(random)).ToArray();
            var clear = ClearMargins(network, candidates);
            rows.AddRange(candidates.Where((_, i) => clear[i]));
        }
        var clean = CleanPredictions(network, rows);
        for (int i = 0; i < count; i++)
            rows[i].Label = (uint)(i % 2 == 0 ? clean[i] : (clean[i] + 1) % Classes);
        return rows.ToArray();
    }

    /// <summary>
    /// Least gap between the two best logits, relative to the logits' scale, for an image to count as clearly
    /// classified: far above float rounding (about 1e-6 relative), far below the usual gaps (about 0.1).
    /// </summary>
    private const double ClearMargin = 1e-3;

    private static bool[] ClearMargins(ResNet network, IReadOnlyList<Row> rows)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var images = tensor(rows.SelectMany(r => r.Image).ToArray(), [rows.Count, Channels, Side, Side]);
        var logits = network.call(Normalization.Apply(images));
        var (top2, _) = logits.topk(2, dim: 1);
        var gap = (top2[.., 0] - top2[.., 1]).data<float>().ToArray();
        var scale = logits.abs().amax([1]).clamp_min(1).data<float>().ToArray();
        return gap.Select((g, i) => g >= ClearMargin * scale[i]).ToArray();
    }

    private static Row Draw(Random random)
    {
        var image = new float[Channels * Pixels];
        var mask = new float[Pixels];
        double cy = random.Next(4, Side - 4), cx = random.Next(4, Side - 4), r = random.Next(2, 5);
        var tint = Enumerable.Range(0, Channels).Select(_ => random.NextSingle()).ToArray();
        for (int y = 0; y < Side; y++)
            for (int x = 0; x < Side; x++)
            {
                int p = y * Side + x;
                bool inside = (y - cy) * (y - cy) + (x - cx) * (x - cx) <= r * r;
                mask[p] = inside ? 1 : 0;
                for (int c = 0; c < Channels; c++)
                    image[c * Pixels + p] = inside ? 0.95f : Math.Clamp(tint[c] * 0.7f + 0.3f * random.NextSingle(), 0f, 1f);
            }
        return new Row
        {
            Image = image,
            ObjectMask = mask,
            // Quadrants with arbitrary, non-consecutive ids.
            Segments = Enumerable.Range(0, Pixels).Select(p => (float)((p / Side < Side / 2 ? 10 : 30) + (p % Side < Side / 2 ? 0 : 7))).ToArray(),
            // Relevance grows left to right.
            Attribution = Enumerable.Range(0, Pixels).Select(p => (float)(p % Side)).ToArray(),
        };
    }

    /// <summary>The network's class for each whole image.</summary>
    public static int[] CleanPredictions(ResNet network, IReadOnlyList<Row> rows)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var images = tensor(rows.SelectMany(r => r.Image).ToArray(), [rows.Count, Channels, Side, Side]);
        return network.call(Normalization.Apply(images)).argmax(1).to(ScalarType.Int32).data<int>().ToArray();
    }

    public static IDataView Load(MLContext ml, IEnumerable<Row> rows) => ml.Data.LoadFromEnumerable(rows);
}
