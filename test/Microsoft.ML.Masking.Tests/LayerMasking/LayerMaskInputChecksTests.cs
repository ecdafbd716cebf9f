using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.Tests.TestDoubles;
using static Microsoft.ML.Masking.Tests.LayerMasking.TestNetworks;

namespace Microsoft.ML.Masking.Tests.LayerMasking;

/// <summary>
/// <c>LayerMask</c> reads the columns' own dimensions: a layout or size that contradicts the classifier fails at Fit,
/// naming the column and what is wrong, instead of scoring scrambled pixels.
/// </summary>
[TestClass]
public sealed class LayerMaskInputChecksTests
{
    public TestContext TestContext { get; set; } = null!;

    public sealed class Row
    {
        public float[] Image { get; set; } = [];
        public float[] Mask { get; set; } = [];
    }

    /// <summary>Rows of random 0–1 RGB images [3, height, width] and half-kept masks [height, width], dimensions declared.</summary>
    public static IDataView Rows(MLContext ml, int count, int width, int height, int[]? maskDimensions = null)
    {
        var random = new Random(4);
        var rows = Enumerable.Range(0, count).Select(_ => new Row
        {
            Image = Enumerable.Range(0, 3 * width * height).Select(_ => random.NextSingle()).ToArray(),
            Mask = Enumerable.Range(0, width * height).Select(p => p % 2 == 0 ? 1f : 0f).ToArray(),
        }).ToArray();
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Image)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3, height, width);
        schema[nameof(Row.Mask)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, maskDimensions ?? [height, width]);
        return ml.Data.LoadFromEnumerable(rows, schema);
    }

    /// <summary>A folder of <paramref name="count"/> random PNGs, <paramref name="width"/> wide and <paramref name="height"/> high, with masks.</summary>
    private IDataView PngRows(MLContext ml, int count, int width, int height, out string folder)
    {
        folder = TestFolders.Create(TestContext, "pngs");
        var random = new Random(5);
        var rows = new List<PathRow>();
        for (int i = 0; i < count; i++)
        {
            var pixels = new byte[width * height * 4];
            random.NextBytes(pixels);
            for (int p = 3; p < pixels.Length; p += 4) pixels[p] = 255;
            using var image = MLImage.CreateFromPixels(width, height, MLPixelFormat.Bgra32, pixels);
            image.Save(Path.Combine(folder, $"img{i}.png"));
            rows.Add(new PathRow { ImagePath = $"img{i}.png", Mask = Enumerable.Repeat(1f, width * height).ToArray() });
        }
        var schema = SchemaDefinition.Create(typeof(PathRow));
        schema[nameof(PathRow.Mask)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, height, width);
        return ml.Data.LoadFromEnumerable(rows, schema);
    }

    public sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
        public float[] Mask { get; set; } = [];
    }

    [TestMethod]
    public void SwappedWidthAndHeightOnNonSquareImagesFailAtFitNamingTheColumn()
    {
        var ml = new MLContext(seed: 1);
        var data = PngRows(ml, 2, width: 80, height: 60, out var folder);
        var pixels = ml.Transforms.LoadImages("Loaded", folder, nameof(PathRow.ImagePath))
            .Append(ml.Transforms.ResizeImages("Loaded", imageWidth: 80, imageHeight: 60))
            .Append(ml.Transforms.ExtractPixels("Image", "Loaded", scaleImage: 1f / 255)).Fit(data).Transform(data);
        Assert.AreEqual("Vector<Single, 3, 60, 80>", pixels.Schema["Image"].Type.ToString());

        var swapped = ml.Transforms.LayerMask("Score", SmallBasic(), ChannelNormalization.ImageNet, imageWidth: 60, imageHeight: 80);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => swapped.Fit(pixels));
        Assert.AreEqual("inputSchema", e.ParamName, "ML.NET's parameter name for schema errors");
        StringAssert.Contains(e.Message, "input column 'Image'");
        StringAssert.Contains(e.Message, "Width and height are swapped: the images are 80 wide and 60 high, the classifier reads 60 wide and 80 high");

        using var right = ml.Transforms.LayerMask("Score", SmallBasic(), ChannelNormalization.ImageNet, imageWidth: 80, imageHeight: 60).Fit(pixels);
        Assert.HasCount(2, TestData.Vectors(right.Transform(pixels), "Score"));
    }

    [TestMethod]
    public void InterleavedPixelsAreRejectedWithTheFix()
    {
        var ml = new MLContext(seed: 1);
        var data = PngRows(ml, 1, width: 32, height: 32, out var folder);
        var interleaved = ml.Transforms.LoadImages("Loaded", folder, nameof(PathRow.ImagePath))
            .Append(ml.Transforms.ResizeImages("Loaded", imageWidth: 32, imageHeight: 32))
            .Append(ml.Transforms.ExtractPixels("Image", "Loaded", interleavePixelColors: true, scaleImage: 1f / 255)).Fit(data).Transform(data);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            ml.Transforms.LayerMask("Score", SmallBasic(), ChannelNormalization.ImageNet, imageWidth: 32, imageHeight: 32).Fit(interleaved));
        StringAssert.Contains(e.Message, "got Vector<Single, 32, 32, 3>");
        StringAssert.Contains(e.Message, "interleavePixelColors: false");
    }

    [TestMethod]
    public void AMaskWithSwappedDimensionsIsRejected()
    {
        var ml = new MLContext(seed: 1);
        var data = Rows(ml, 1, width: 20, height: 12, maskDimensions: [20, 12]);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            ml.Transforms.LayerMask("Score", SmallBasic(), ChannelNormalization.ImageNet, imageWidth: 20, imageHeight: 12).Fit(data));
        Assert.AreEqual("inputSchema", e.ParamName);
        StringAssert.Contains(e.Message, "input column 'Mask'");
        StringAssert.Contains(e.Message, "Width and height are swapped");
    }

    [TestMethod]
    public void WithImageNetNormalizationBlackAndGreyFillsScoreDifferently()
    {
        // Without a normalization the module overload used to feed 0–1 pixels as they were, where black and grey are both 0.
        var ml = new MLContext(seed: 1);
        var data = Rows(ml, 3, 16, 16);
        var network = SmallBasic();
        float[] Scores(MaskingMethod method)
        {
            using var t = ml.Transforms.LayerMask("Score", network, ChannelNormalization.ImageNet, 16, 16, method: method).Fit(data);
            return TestData.Vectors(t.Transform(data), "Score").SelectMany(v => v).ToArray();
        }
        var black = Scores(MaskingMethod.Black);
        var grey = Scores(MaskingMethod.Grey);
        Assert.IsTrue(black.Zip(grey).Max(p => Math.Abs(p.First - p.Second)) > 1e-4, "black (−mean/std) and grey (0) are different inputs");
    }

    [TestMethod]
    public void ADisposedTransformerThrowsObjectDisposedException()
    {
        var ml = new MLContext(seed: 1);
        var data = Rows(ml, 2, 16, 16);
        var transformer = ml.Transforms.LayerMask("Score", SmallBasic(), ChannelNormalization.Identity(3), 16, 16).Fit(data);
        var scored = transformer.Transform(data);
        transformer.Dispose();
        var e = Assert.ThrowsExactly<ObjectDisposedException>(() => TestData.Vectors(scored, "Score"));
        StringAssert.Contains(e.ObjectName, nameof(LayerMaskingTransformer));
        transformer.Dispose(); // twice is harmless
    }
}
