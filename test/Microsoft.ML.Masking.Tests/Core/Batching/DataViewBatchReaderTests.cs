using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core.Batching;
using Microsoft.ML.Masking.Data;

namespace Microsoft.ML.Masking.Tests.Core.Batching;

/// <summary>The one IDataView → batch reader: schema checks (one wording), shapes from dimensions, batches in order, row-level errors.</summary>
[TestClass]
public sealed class DataViewBatchReaderTests
{
    private sealed class Row
    {
        public float[] Image = [];
        public float[] Mask = [];
        public int Label;
        public float Weight = 1;
    }

    /// <summary>Rows with an image column of <paramref name="imageDimensions"/>, a mask column of <paramref name="maskDimensions"/>, a key label and a weight.</summary>
    private static IDataView Data(Row[] rows, int[] imageDimensions, int[] maskDimensions) =>
        new IndexedDataView<Row>(rows.Length, i => rows[i],
        [
            IndexedColumn<Row>.FloatTensor("Image", imageDimensions, (r, d) => r.Image.CopyTo(d)),
            IndexedColumn<Row>.FloatTensor("Mask", maskDimensions, (r, d) => r.Mask.CopyTo(d)),
            IndexedColumn<Row>.ClassKey("Label", ["a", "b", "c"], r => r.Label),
            IndexedColumn<Row>.Float("Weight", r => r.Weight),
        ]);

    private static Row[] Rows(int count, int imageSize, int pixels) => Enumerable.Range(0, count).Select(i => new Row
    {
        Image = Enumerable.Range(0, imageSize).Select(p => i * 100f + p).ToArray(),
        Mask = Enumerable.Range(0, pixels).Select(p => (float)((i + p) % 2)).ToArray(),
        Label = i % 3,
        Weight = 0.5f * i,
    }).ToArray();

    private static BatchInputColumn[] AllKinds(ImageShape? shape = null) =>
    [
        BatchInputColumn.Image("Image", shape, BatchValueRules.Finite),
        BatchInputColumn.PerPixel("Mask", "masks", BatchValueRules.Binary),
        BatchInputColumn.Label("Label"),
        BatchInputColumn.Weight("Weight"),
    ];

    [TestMethod]
    public void BatchesComeInOrderAsShapedTensors()
    {
        var rows = Rows(7, 3 * 2 * 4, 2 * 4);
        var reader = new DataViewBatchReader(Data(rows, [3, 2, 4], [2, 4]), AllKinds());
        Assert.AreEqual(new ImageShape(3, 2, 4), reader.ImageShape, "the shape comes from the column's [C, H, W] dimensions");
        Assert.AreEqual(3, reader.Binding["Label"].ClassCount);
        CollectionAssert.AreEqual(new[] { "a", "b", "c" }, reader.Binding["Label"].ClassNames!.ToArray());

        var seen = new List<(long First, int Count)>();
        foreach (var batch in reader.Batches(3))
        {
            seen.Add((batch.FirstRow, batch.Count));
            using var images = batch.Tensor("Image");
            using var masks = batch.Tensor("Mask");
            using var labels = batch.Tensor("Label");
            using var weights = batch.Tensor("Weight");
            CollectionAssert.AreEqual(new long[] { batch.Count, 3, 2, 4 }, images.shape);
            CollectionAssert.AreEqual(new long[] { batch.Count, 2, 4 }, masks.shape);
            CollectionAssert.AreEqual(new long[] { batch.Count }, labels.shape);
            CollectionAssert.AreEqual(new long[] { batch.Count }, weights.shape);
            for (int i = 0; i < batch.Count; i++)
            {
                var row = rows[batch.FirstRow + i];
                CollectionAssert.AreEqual(row.Image, images[i].flatten().data<float>().ToArray());
                CollectionAssert.AreEqual(row.Mask, masks[i].flatten().data<float>().ToArray());
                Assert.AreEqual(row.Label, labels[i].item<long>(), "labels are 0-based class indices");
                Assert.AreEqual(row.Weight, weights[i].item<float>());
            }
        }
        CollectionAssert.AreEqual(new[] { (0L, 3), (3L, 3), (6L, 1) }, seen);
        Assert.AreEqual(7, reader.CountRows());
    }

    [TestMethod]
    public void APlainVectorIsASquareImageUnlessTheShapeIsGiven()
    {
        var rows = Rows(2, 3 * 4 * 4, 16);
        Assert.AreEqual(new ImageShape(3, 4, 4), new DataViewBatchReader(Data(rows, [48], [16]), AllKinds()).ImageShape);
        var given = new DataViewBatchReader(Data(Rows(2, 3 * 2 * 8, 16), [48], [16]), AllKinds(new ImageShape(3, 2, 8)));
        Assert.AreEqual(new ImageShape(3, 2, 8), given.ImageShape);

        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new DataViewBatchReader(Data(Rows(2, 10, 10), [10], [10]), AllKinds()));
        StringAssert.Contains(e.Message, "Schema mismatch for input column 'Image': expected planar images with known dimensions [C, H, W]");
        StringAssert.Contains(e.Message, "set ImageShape");
    }

    [TestMethod]
    public void LayoutsThatContradictTheImagesAreSchemaErrorsNamingTheColumn()
    {
        var interleaved = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new DataViewBatchReader(Data(Rows(2, 108, 36), [6, 6, 3], [6, 6]), AllKinds()));
        StringAssert.Contains(interleaved.Message, "Schema mismatch for input column 'Image': expected known-size vector of Single (planar channels × height × width)");
        StringAssert.Contains(interleaved.Message, "got Vector<Single, 6, 6, 3>. The pixels are interleaved");

        var interleavedAgainstShape = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            new DataViewBatchReader(Data(Rows(2, 48, 16), [4, 4, 3], [4, 4]), AllKinds(new ImageShape(3, 4, 4))));
        StringAssert.Contains(interleavedAgainstShape.Message, "The pixels are interleaved");

        var swapped = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            new DataViewBatchReader(Data(Rows(2, 48, 16), [3, 2, 8], [2, 8]), AllKinds(new ImageShape(3, 8, 2))));
        StringAssert.Contains(swapped.Message, "expected Vector<Single, 3, 8, 2> (planar channels × height × width), got Vector<Single, 3, 2, 8>. Width and height are swapped");

        var mask = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new DataViewBatchReader(Data(Rows(2, 48, 16), [3, 2, 8], [8, 2]), AllKinds()));
        StringAssert.Contains(mask.Message, "Schema mismatch for input column 'Mask': expected Vector<Single, 2, 8> (one value per pixel, row-major), got Vector<Single, 8, 2>. Width and height are swapped");
    }

    [TestMethod]
    public void MissingColumnsAndWrongTypesUseMLNetsWording()
    {
        var data = Data(Rows(2, 48, 16), [3, 4, 4], [4, 4]);
        var missing = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            new DataViewBatchReader(data, [BatchInputColumn.Image("Pixels")], dataName: "validation set"));
        StringAssert.Contains(missing.Message, "Could not find input column 'Pixels' in the validation set");

        var notKey = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            new DataViewBatchReader(data, [BatchInputColumn.Image("Image"), BatchInputColumn.Label("Weight", requireKey: true)]));
        StringAssert.Contains(notKey.Message, "Schema mismatch for input column 'Weight': expected Key<UInt32>, got Single");

        var wrongClasses = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            new DataViewBatchReader(data, [BatchInputColumn.Image("Image"), BatchInputColumn.Label("Label", classCount: 5)]));
        StringAssert.Contains(wrongClasses.Message, "Schema mismatch for input column 'Label': expected Key<UInt32> with 5 values, got Key<UInt32, 0-2>");

        var weight = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            new DataViewBatchReader(data, [BatchInputColumn.Image("Image"), BatchInputColumn.Weight("Label")]));
        StringAssert.Contains(weight.Message, "Schema mismatch for input column 'Label': expected Single (an example weight)");
    }

    [TestMethod]
    public void NumericLabelsAreClassNumbersWhenTheCountIsKnown()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(new[] { 2f, 0f, 1f }.Select(l => new NumericRow { Label = l }));
        var reader = new DataViewBatchReader(data, [BatchInputColumn.Image("Image"), BatchInputColumn.Label("Label", classCount: 3)]);
        var batch = reader.Batches(8).Single();
        CollectionAssert.AreEqual(new long[] { 2, 0, 1 }, batch.Tensor("Label").data<long>().ToArray());

        var outside = ml.Data.LoadFromEnumerable(new[] { 2f, 3f }.Select(l => new NumericRow { Label = l }));
        var e = Assert.ThrowsExactly<InvalidOperationException>(() =>
            new DataViewBatchReader(outside, [BatchInputColumn.Image("Image"), BatchInputColumn.Label("Label", classCount: 3)]).Batches(8).ToList());
        StringAssert.Contains(e.Message, "Column 'Label', row 1: the label is 3; a class number must be a whole number from 0 to 2.");
    }

    [TestMethod]
    public void BadValuesNameTheColumnAndTheRow()
    {
        var rows = Rows(6, 48, 16);
        rows[4].Mask[1] = 0.5f;
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => Read(rows));
        Assert.AreEqual("Column 'Mask' in the training data, row 4: masks must hold only 0 and 1; found 0.5 at index 1.", e.Message);

        rows = Rows(6, 48, 16);
        rows[3].Image[7] = float.NaN;
        e = Assert.ThrowsExactly<InvalidOperationException>(() => Read(rows));
        Assert.AreEqual("Column 'Image' in the training data, row 3: holds a non-finite value (NaN) at index 7; pixels must be finite numbers.", e.Message);

        rows = Rows(6, 48, 16);
        rows[2].Weight = -1;
        e = Assert.ThrowsExactly<InvalidOperationException>(() => Read(rows));
        StringAssert.StartsWith(e.Message, "Column 'Weight' in the training data, row 2: the example weight is -1");

        static void Read(Row[] rows) =>
            new DataViewBatchReader(Data(rows, [3, 4, 4], [4, 4]), AllKinds(), dataName: "training data").Batches(4).ToList();
    }

    [TestMethod]
    public void ARowFromAFileIsNamedByItsPathToo()
    {
        var rows = Rows(4, 48, 16);
        rows[2].Image[5] = float.PositiveInfinity;
        var data = new IndexedDataView<Row>(rows.Length, i => rows[i],
        [
            IndexedColumn<Row>.Text("ImagePath", r => $"/photos/{Array.IndexOf(rows, r)}.png"),
            IndexedColumn<Row>.FloatTensor("Image", [3, 4, 4], (r, d) => r.Image.CopyTo(d)),
        ]);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() =>
            new DataViewBatchReader(data, [BatchInputColumn.Image("Image", rules: BatchValueRules.Finite)]).Batches(3).ToList());
        StringAssert.StartsWith(e.Message, "Column 'Image', row 2 (ImagePath '/photos/2.png'): holds a non-finite value (Infinity) at index 5");
    }

    [TestMethod]
    public void TheLibrarysLoadersDeclareTheirLayout()
    {
        var shapes = new MLContext(1).Data.LoadShapes(new ShapesOptions { ImageSize = 16, Count = 2 });
        CollectionAssert.AreEqual(new[] { 3, 16, 16 }, ((VectorDataViewType)shapes.Schema["Image"].Type).Dimensions.ToArray());
        CollectionAssert.AreEqual(new[] { 16, 16 }, ((VectorDataViewType)shapes.Schema["ObjectMask"].Type).Dimensions.ToArray());
        var reader = new DataViewBatchReader(shapes,
            [BatchInputColumn.Image("Image"), BatchInputColumn.PerPixel("ObjectMask", "object masks", BatchValueRules.Binary)]);
        Assert.AreEqual(new ImageShape(3, 16, 16), reader.ImageShape);
        Assert.AreEqual(2, reader.Batches(5).Sum(b => b.Count));
    }

    private sealed class NumericRow
    {
        [VectorType(1, 2, 2)]
        public float[] Image { get; set; } = new float[4];

        public float Label { get; set; }
    }
}
