using Microsoft.ML.Data;
using Microsoft.ML.Masking.Attribution;
using Microsoft.ML.Masking.LayerMasking;
using static Microsoft.ML.Masking.Tests.Attribution.AttributionTestData;

namespace Microsoft.ML.Masking.Tests.Attribution;

/// <summary>
/// A perturbation method on the transfer-learning pipeline ML.NET users already run: <c>DnnFeaturizeImage</c> with
/// ML.NET's ResNet-18 (ONNX Runtime underneath) as the scorer, no TorchSharp network involved.
/// </summary>
[TestClass]
public sealed class OnnxScorerAttributionTests
{
    private const int Side = 224, Size = 3 * Side * Side, Window = 112, Feature = 7;

    public sealed class Row
    {
        [VectorType(3, Side, Side)]
        public float[] Image { get; set; } = [];
    }

    [TestMethod]
    public void OcclusionThroughDnnFeaturizeImageIsTheFeatureDropOfEachBlackenedWindow()
    {
        var ml = new MLContext(0);
        // RGB on 0–255, what ExtractPixels writes by default and DnnFeaturizeImage takes.
        var rows = Enumerable.Range(0, 2).Select(i => new Row { Image = Pixels(Size, 90 + i).Select(v => 255f * v).ToArray() }).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        var featurizer = ml.Transforms.DnnFeaturizeImage("Score", m => m.ModelSelector.ResNet18(ml, m.OutputColumn, m.InputColumn), nameof(Row.Image)).Fit(data);
        try
        {
            var maps = Vectors(ml.Transforms.Attribution().Occlusion(new OcclusionOptions
            {
                Scorer = featurizer, Removal = MaskingMethod.Black, Window = Window, Target = AttributionTarget.FixedClass(Feature), BatchSize = 2, InternalBatchSize = 3,
            }).Fit(data).Transform(data), "Attribution");

            // By hand: each image and its four copies with one 112×112 window black in every channel, scored by the same featurizer.
            var painted = new List<Row>();
            foreach (var row in rows)
            {
                painted.Add(row);
                for (int w = 0; w < 4; w++)
                    painted.Add(new Row { Image = row.Image.Select((v, q) => InWindow(q % (Side * Side), w) ? 0f : v).ToArray() });
            }
            var scores = featurizer.Transform(ml.Data.LoadFromEnumerable(painted)).GetColumn<float[]>("Score").ToArray();
            for (int i = 0; i < rows.Length; i++)
            {
                var expected = new float[Side * Side];
                for (int p = 0; p < expected.Length; p++)
                {
                    int w = Enumerable.Range(0, 4).First(k => InWindow(p, k));
                    expected[p] = scores[i * 5][Feature] - scores[i * 5 + 1 + w][Feature];
                }
                Assert.IsGreaterThan(1e-3, expected.Max(v => Math.Abs(v)), "the windows move the feature");
                Assert.IsLessThan(1e-4, RelativeDifference([maps[i]], [expected]), $"row {i}");
            }
        }
        finally
        {
            (featurizer as IDisposable)?.Dispose();
        }
    }

    /// <summary>Whether pixel <paramref name="p"/> (row-major) lies in window <paramref name="w"/> of the 2×2 grid of 112×112 windows.</summary>
    private static bool InWindow(int p, int w) => p / Side / Window * 2 + p % Side / Window == w;
}
