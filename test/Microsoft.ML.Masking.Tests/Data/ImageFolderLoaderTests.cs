using Microsoft.ML.Data;
using Microsoft.ML.Masking.Tests.TestDoubles;

namespace Microsoft.ML.Masking.Tests.Data;

[TestClass]
public sealed class ImageFolderLoaderTests
{
    public TestContext TestContext { get; set; } = null!;

    private static void WritePng(string path, int width, int height, Func<int, int, (byte R, byte G, byte B)> color)
    {
        var rgba = new byte[width * height * 4];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                var (r, g, b) = color(x, y);
                int i = (y * width + x) * 4;
                (rgba[i], rgba[i + 1], rgba[i + 2], rgba[i + 3]) = (r, g, b, 255);
            }
        using var image = MLImage.CreateFromPixels(width, height, MLPixelFormat.Rgba32, rgba);
        image.Save(path);
    }

    [TestMethod]
    public void FolderPerClassBecomesPathsAndKeyLabelsThenPlanarPixels()
    {
        var root = TestFolders.Create(TestContext, "folders");
        Directory.CreateDirectory(Path.Combine(root, "red"));
        Directory.CreateDirectory(Path.Combine(root, "blue"));
        Directory.CreateDirectory(Path.Combine(root, "empty"));
        WritePng(Path.Combine(root, "red", "a.png"), 4, 4, (_, _) => (255, 0, 0));
        WritePng(Path.Combine(root, "red", "b.png"), 4, 4, (x, _) => ((byte)(x * 60), 0, 0));
        WritePng(Path.Combine(root, "blue", "c.png"), 4, 4, (_, _) => (0, 0, 255));
        File.WriteAllText(Path.Combine(root, "blue", "notes.txt"), "not an image");

        var ml = new MLContext(1);
        var files = ml.Data.LoadImageFolder(root);

        var keyValues = default(VBuffer<ReadOnlyMemory<char>>);
        files.Schema["Label"].GetKeyValues(ref keyValues);
        CollectionAssert.AreEqual(new[] { "blue", "red" }, keyValues.DenseValues().Select(v => v.ToString()).ToArray(), "classes in ordinal order; empty folders skipped");
        CollectionAssert.AreEqual(new uint[] { 1, 2, 2 }, TestData.Column<uint>(files, "Label"));
        Assert.IsTrue(TestData.Column<ReadOnlyMemory<char>>(files, "ImagePath").All(p => Path.IsPathRooted(p.ToString())));

        var pixels = ml.Transforms.LoadImagePixels(imageWidth: 4, imageHeight: 4).Fit(files).Transform(files);
        Assert.AreEqual(3 * 16, ((VectorDataViewType)pixels.Schema["Image"].Type).Size);
        var wide = ml.Transforms.LoadImagePixels(imageWidth: 4, imageHeight: 2).Fit(files).Transform(files);
        CollectionAssert.AreEqual(new[] { 3, 2, 4 }, ((VectorDataViewType)wide.Schema["Image"].Type).Dimensions.ToArray(), "ExtractPixels declares [C, H, W]");
        Assert.IsNull(pixels.Schema.GetColumnOrNull("ImageBitmap"), "the intermediate bitmap column is dropped");
        var blue = TestData.Vectors(pixels, "Image")[0];
        CollectionAssert.AreEqual(Enumerable.Repeat(0f, 32).Concat(Enumerable.Repeat(1f, 16)).ToArray(), blue, "planar R, G, B planes scaled to [0, 1]");
    }

    [TestMethod]
    public void FolderWithoutClassSubfoldersIsRejected()
    {
        var root = TestFolders.Create(TestContext, "folders");
        WritePng(Path.Combine(root, "loose.png"), 2, 2, (_, _) => (1, 2, 3));

        var e = Assert.ThrowsExactly<InvalidDataException>(() => new MLContext(1).Data.LoadImageFolder(root));
        StringAssert.Contains(e.Message, "one subdirectory per class");
        Assert.ThrowsExactly<DirectoryNotFoundException>(() => new MLContext(1).Data.LoadImageFolder(Path.Combine(root, "missing")));
    }
}
