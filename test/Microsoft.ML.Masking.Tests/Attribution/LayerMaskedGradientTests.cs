using Microsoft.ML.Data;
using Microsoft.ML.Masking.Attribution;
using Microsoft.ML.Masking.LayerMasking.Engine;
using static Microsoft.ML.Masking.Tests.Attribution.AttributionTestData;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Attribution;

/// <summary>Gradient methods through the layer-masked network: removed pixels get no attribution and do not move the kept ones'.</summary>
[TestClass]
public sealed class LayerMaskedGradientTests
{
    public sealed class MaskedRow
    {
        [VectorType(CnnSize)]
        public float[] Image { get; set; } = [];

        [VectorType(CnnSide * CnnSide)]
        public float[] Keep { get; set; } = [];
    }

    /// <summary>A box of kept pixels (rows 3–11, columns 2–12) per image; the rest removed.</summary>
    private static readonly float[] Box = Enumerable.Range(0, CnnSide * CnnSide).Select(p => p / CnnSide is >= 3 and <= 11 && p % CnnSide is >= 2 and <= 12 ? 1f : 0f).ToArray();

    /// <summary>Images whose kept pixels come from seed 60 + i and whose removed pixels from <paramref name="removedSeed"/>.</summary>
    private static IDataView Data(MLContext ml, int removedSeed)
    {
        var rows = Enumerable.Range(0, 3).Select(i =>
        {
            var kept = Pixels(CnnSize, 60 + i);
            var removed = Pixels(CnnSize, removedSeed + i);
            var image = kept.Select((v, q) => Box[q % (CnnSide * CnnSide)] == 1 ? v : removed[q]).ToArray();
            return new MaskedRow { Image = image, Keep = Box };
        }).ToArray();
        return ml.Data.LoadFromEnumerable(rows);
    }

    [TestMethod]
    public void RemovedPixelsGetZeroGradientAndDoNotInfluenceTheKeptPixelsAttributions()
    {
        var ml = new MLContext(0);
        var network = Cnn();
        var classifier = CnnClassifier(network);
        float[][] Run(IDataView data, GradientAttributionOptions o) => Vectors(ml.Transforms.Attribution().Saliency((SaliencyOptions)o).Fit(data).Transform(data), "Attribution");
        float[][] RunIg(IDataView data, string? keep) => Vectors(ml.Transforms.Attribution().IntegratedGradients(new IntegratedGradientsOptions
        {
            Classifier = classifier, KeepMaskColumnName = keep, Steps = 8, BatchSize = 2, InternalBatchSize = 5,
        }).Fit(data).Transform(data), "Attribution");

        var a = Data(ml, 900);
        var b = Data(ml, 901);
        var saliencyA = Run(a, new SaliencyOptions { Classifier = classifier, KeepMaskColumnName = "Keep", Absolute = false, BatchSize = 2 });
        var saliencyB = Run(b, new SaliencyOptions { Classifier = classifier, KeepMaskColumnName = "Keep", Absolute = false, BatchSize = 2 });
        var igA = RunIg(a, "Keep");
        var igB = RunIg(b, "Keep");
        for (int i = 0; i < saliencyA.Length; i++)
            for (int q = 0; q < CnnSize; q++)
            {
                bool kept = Box[q % (CnnSide * CnnSide)] == 1;
                if (!kept)
                {
                    Assert.AreEqual(0f, saliencyA[i][q], $"row {i}, removed value {q}: saliency");
                    Assert.AreEqual(0f, igA[i][q], $"row {i}, removed value {q}: IG");
                }
                // The removed pixels differ between a and b; the kept pixels' attributions may not.
                Assert.AreEqual(saliencyA[i][q], saliencyB[i][q], $"row {i}, value {q}: saliency");
                Assert.AreEqual(igA[i][q], igB[i][q], $"row {i}, value {q}: IG");
            }
        // Through the plain network the removed pixels do change the kept ones' gradients, so the check above is not vacuous.
        var plainA = Run(a, new SaliencyOptions { Classifier = classifier, Absolute = false });
        var plainB = Run(b, new SaliencyOptions { Classifier = classifier, Absolute = false });
        Assert.IsGreaterThan(1e-3, RelativeDifference(plainA, plainB));

        // And the masked gradient is autograd's through LayerMaskedNetwork.
        using var scope = NewDisposeScope();
        using var masked = LayerMaskedNetwork.Create(network, foldBatchNorm: false);
        var images = Vectors(a, "Image");
        var keep = tensor(Box, [1, CnnSide, CnnSide]);
        for (int i = 0; i < images.Length; i++)
        {
            var x = tensor(images[i], [1, 3, CnnSide, CnnSide]).requires_grad_(true);
            var logits = masked.Forward(CnnNormalization.Apply(x), keep);
            long target = logits.argmax(1).item<long>();
            logits[0, target].backward();
            Assert.IsLessThan(1e-5, RelativeDifference([saliencyA[i]], [x.grad!.data<float>().ToArray()]), $"row {i}");
        }
    }

    [TestMethod]
    public void AKeepMaskColumnIsCheckedAndRefusedForGradCam()
    {
        var ml = new MLContext(0);
        var data = Data(ml, 900);
        var missing = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            ml.Transforms.Attribution().Saliency(new SaliencyOptions { Classifier = CnnClassifier(), KeepMaskColumnName = "Mask" }).Fit(data));
        StringAssert.Contains(missing.Message, "'Mask'");
        var cam = Assert.ThrowsExactly<ArgumentException>(() =>
            ml.Transforms.Attribution().GradCam(new GradCamOptions { Classifier = CnnClassifier(), KeepMaskColumnName = "Keep" }));
        Assert.AreEqual(nameof(GradientAttributionOptions.KeepMaskColumnName), cam.ParamName);
    }
}
