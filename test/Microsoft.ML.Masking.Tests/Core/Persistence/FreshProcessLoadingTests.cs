using System.Diagnostics;
using Microsoft.ML.Data;
using Microsoft.ML.Masking.Tests.FreshProcess;
using Microsoft.ML.Masking.Tests.TestDoubles;

namespace Microsoft.ML.Masking.Tests.Core.Persistence;

[TestClass]
public sealed class FreshProcessLoadingTests
{
    private const int ImageSide = 8;
    private const int ImageCount = 7;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void ImagePipelineWithOurTransformerLoadsAndScoresIdenticallyInAFreshProcess()
    {
        var folder = TestFolders.Create(TestContext, "fresh-process");
        var imageFolder = Path.Combine(folder, "images");
        Directory.CreateDirectory(imageFolder);
        WriteImages(imageFolder);
        var modelPath = Path.Combine(folder, "model.zip");

        var ml = new MLContext(seed: 1);
        var images = Directory.GetFiles(imageFolder, "*.png").Order(StringComparer.Ordinal)
            .Select(p => new SavedModelScoring.ImageInput { ImagePath = Path.GetFileName(p) }).ToArray();
        var data = ml.Data.LoadFromEnumerable(images);
        var pixels = ml.Transforms.LoadImages("Image", imageFolder, nameof(SavedModelScoring.ImageInput.ImagePath))
            .Append(ml.Transforms.ResizeImages("Image", ImageSide, ImageSide))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Image"));
        var transformer = new LinearTestTransformer(ml, "Pixels", 3 * ImageSide * ImageSide, TestData.Classes, batchSize: 3, seed: 5);
        var model = pixels.Append(new TransformerEstimatorAdapter(transformer)).Fit(data);
        var expected = TestData.Vectors(model.Transform(data), SavedModelScoring.ScoreColumn);
        ml.Model.Save(model, data.Schema, modelPath);

        var outputPath = Path.Combine(folder, "scores.bin");
        var stdout = FreshProcessRunner.Run(SavedModelScoring.Command, modelPath, imageFolder, outputPath);

        StringAssert.Contains(stdout, "library-loaded-before-load=False", "the child must not have touched the library before Model.Load");
        StringAssert.Contains(stdout, "library-loaded-after-load=True");
        var actual = FreshProcessRunner.ReadFloats(outputPath);
        var flat = expected.SelectMany(v => v).ToArray();
        Assert.HasCount(ImageCount * TestData.Classes.Length, flat);
        CollectionAssert.AreEqual(
            flat.Select(BitConverter.SingleToInt32Bits).ToArray(),
            actual.Select(BitConverter.SingleToInt32Bits).ToArray(),
            "scores must be bit-identical across processes");
    }

    private static void WriteImages(string folder)
    {
        var random = new Random(11);
        for (int i = 0; i < ImageCount; i++)
        {
            // Larger than the model's input so the resize transform does real work.
            var pixels = new byte[12 * 10 * 4];
            random.NextBytes(pixels);
            for (int p = 3; p < pixels.Length; p += 4)
                pixels[p] = 255;
            using var image = MLImage.CreateFromPixels(12, 10, MLPixelFormat.Bgra32, pixels);
            image.Save(Path.Combine(folder, $"image{i:D2}.png"));
        }
    }
}
