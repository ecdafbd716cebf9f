using System.Buffers.Binary;
using System.IO.Compression;
using Microsoft.ML.Data;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Tests.TestDoubles;

namespace Microsoft.ML.Masking.Tests.Data;

[TestClass]
public sealed class IdxLoaderTests
{
    public TestContext TestContext { get; set; } = null!;

    private string NewFolder() => TestFolders.Create(TestContext, "idx");

    /// <summary>Writes an IDX file of unsigned bytes (optionally gzip-compressed).</summary>
    private static void WriteIdx(string path, int[] dimensions, byte[] values, bool gzip, byte type = 0x08)
    {
        using var file = File.Create(path);
        using var stream = gzip ? new GZipStream(file, CompressionLevel.Fastest) : (Stream)file;
        stream.Write([0, 0, type, (byte)dimensions.Length]);
        var word = new byte[4];
        foreach (int d in dimensions)
        {
            BinaryPrimitives.WriteInt32BigEndian(word, d);
            stream.Write(word);
        }
        stream.Write(values);
    }

    private static (byte[] Pixels, byte[] Labels) SmallSet(int count, int rows, int columns, int classes)
    {
        var pixels = Enumerable.Range(0, count * rows * columns).Select(i => (byte)(i * 37 % 256)).ToArray();
        var labels = Enumerable.Range(0, count).Select(i => (byte)(i % classes)).ToArray();
        return (pixels, labels);
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void LoadsImagesScaledToUnitRangeAndKeyLabelsWithClassNames(bool gzip)
    {
        var folder = NewFolder();
        var (pixels, labels) = SmallSet(count: 5, rows: 3, columns: 2, classes: 3);
        string images = Path.Combine(folder, "images.idx"), labelFile = Path.Combine(folder, "labels.idx");
        WriteIdx(images, [5, 3, 2], pixels, gzip);
        WriteIdx(labelFile, [5], labels, gzip);

        var ml = new MLContext(1);
        var data = ml.Data.LoadIdx(images, labelFile, new IdxLoaderOptions { ClassNames = ["a", "b", "c"] });

        var imageType = (VectorDataViewType)data.Schema["Image"].Type;
        Assert.AreEqual(6, imageType.Size);
        CollectionAssert.AreEqual(new[] { 1, 3, 2 }, imageType.Dimensions.ToArray(), "one planar channel of rows × columns, as ExtractPixels declares it");
        var labelType = (KeyDataViewType)data.Schema["Label"].Type;
        Assert.AreEqual(3UL, labelType.Count);
        var keyValues = default(VBuffer<ReadOnlyMemory<char>>);
        data.Schema["Label"].GetKeyValues(ref keyValues);
        CollectionAssert.AreEqual(new[] { "a", "b", "c" }, keyValues.DenseValues().Select(v => v.ToString()).ToArray());

        var vectors = TestData.Vectors(data, "Image");
        for (int row = 0; row < 5; row++)
            for (int p = 0; p < 6; p++)
                Assert.AreEqual(pixels[row * 6 + p] / 255f, vectors[row][p], 1e-7f, $"row {row} pixel {p}");
        CollectionAssert.AreEqual(labels.Select(l => (uint)l + 1).ToList(), TestData.Column<uint>(data, "Label"));
    }

    [TestMethod]
    public void OffsetAndScaleFollowExtractPixels()
    {
        var folder = NewFolder();
        string images = Path.Combine(folder, "i"), labelFile = Path.Combine(folder, "l");
        WriteIdx(images, [1, 1, 2], [10, 200], gzip: false);
        WriteIdx(labelFile, [1], [0], gzip: false);

        var data = new MLContext(1).Data.LoadIdx(images, labelFile, new IdxLoaderOptions { OffsetImage = 10, ScaleImage = 0.5f });

        CollectionAssert.AreEqual(new[] { 0f, 95f }, TestData.Vectors(data, "Image")[0]);
        Assert.AreEqual(1UL, ((KeyDataViewType)data.Schema["Label"].Type).Count, "without class names the classes are 0..max label");
    }

    [TestMethod]
    public void TruncatedFileIsReportedWithItsPath()
    {
        var folder = NewFolder();
        string images = Path.Combine(folder, "images.idx"), labelFile = Path.Combine(folder, "labels.idx");
        WriteIdx(images, [4, 2, 2], new byte[10], gzip: true);
        WriteIdx(labelFile, [4], new byte[4], gzip: false);

        var e = Assert.ThrowsExactly<InvalidDataException>(() => new MLContext(1).Data.LoadIdx(images, labelFile));
        StringAssert.Contains(e.Message, images);
        StringAssert.Contains(e.Message, "truncated");
    }

    [TestMethod]
    public void ImageAndLabelCountsMustAgree()
    {
        var folder = NewFolder();
        string images = Path.Combine(folder, "images.idx"), labelFile = Path.Combine(folder, "labels.idx");
        WriteIdx(images, [3, 2, 2], new byte[12], gzip: false);
        WriteIdx(labelFile, [2], new byte[2], gzip: false);

        var e = Assert.ThrowsExactly<InvalidDataException>(() => new MLContext(1).Data.LoadIdx(images, labelFile));
        StringAssert.Contains(e.Message, "3 images");
        StringAssert.Contains(e.Message, "2 labels");
    }

    [TestMethod]
    public void LabelOutsideTheClassNamesIsRejected()
    {
        var folder = NewFolder();
        string images = Path.Combine(folder, "images.idx"), labelFile = Path.Combine(folder, "labels.idx");
        WriteIdx(images, [2, 1, 1], new byte[2], gzip: false);
        WriteIdx(labelFile, [2], [0, 5], gzip: false);

        var e = Assert.ThrowsExactly<InvalidDataException>(() =>
            new MLContext(1).Data.LoadIdx(images, labelFile, new IdxLoaderOptions { ClassNames = ["x", "y"] }));
        StringAssert.Contains(e.Message, "label 1 is 5");
    }

    [TestMethod]
    public void NotAnIdxFileIsRejected()
    {
        var folder = NewFolder();
        string images = Path.Combine(folder, "images.idx"), labelFile = Path.Combine(folder, "labels.idx");
        File.WriteAllText(images, "hello world");
        WriteIdx(labelFile, [1], [0], gzip: false);

        var e = Assert.ThrowsExactly<InvalidDataException>(() => new MLContext(1).Data.LoadIdx(images, labelFile));
        StringAssert.Contains(e.Message, "not an IDX file");
    }

    [TestMethod]
    public void MissingFashionMnistSaysHowToInstallIt()
    {
        var empty = NewFolder();

        var e = Assert.ThrowsExactly<FileNotFoundException>(() => new MLContext(1).Data.LoadFashionMnist(FashionMnistSplit.Test, empty));
        StringAssert.Contains(e.Message, "apt-get install dataset-fashion-mnist");
        StringAssert.Contains(e.Message, empty);
    }

    [TestMethod]
    public void FashionMnistFromAnyDirectoryUsesItsClassNames()
    {
        var folder = NewFolder();
        var (pixels, labels) = SmallSet(count: 4, rows: 28, columns: 28, classes: 10);
        WriteIdx(Path.Combine(folder, "t10k-images-idx3-ubyte.gz"), [4, 28, 28], pixels, gzip: true);
        WriteIdx(Path.Combine(folder, "t10k-labels-idx1-ubyte"), [4], labels, gzip: false);

        var data = new MLContext(1).Data.LoadFashionMnist(FashionMnistSplit.Test, folder);

        Assert.AreEqual(4L, data.GetRowCount());
        var keyValues = default(VBuffer<ReadOnlyMemory<char>>);
        data.Schema["Label"].GetKeyValues(ref keyValues);
        CollectionAssert.AreEqual(FashionMnist.ClassNames.ToArray(), keyValues.DenseValues().Select(v => v.ToString()).ToArray());
    }
}
