using Microsoft.ML.Data;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Tests.TestDoubles;
using Microsoft.ML.Masking.Training;

namespace Microsoft.ML.Masking.Tests.Training;

[TestClass]
public sealed class ResNetTrainerBadInputTests
{
    private sealed class VariableRow
    {
        public float[] Image { get; set; } = [];

        [KeyType(3)]
        public uint Label { get; set; }
    }

    private sealed class UnlabelledRow
    {
        [VectorType(16)]
        public float[] Image { get; set; } = new float[16];
    }

    private sealed class TenValueRow
    {
        [VectorType(10)]
        public float[] Image { get; set; } = new float[10];

        [KeyType(3)]
        public uint Label { get; set; }
    }

    private sealed class FloatLabelRow
    {
        [VectorType(16)]
        public float[] Image { get; set; } = new float[16];

        public float Label { get; set; }
    }

    private sealed class WideRow
    {
        [VectorType(64)]
        public float[] Image { get; set; } = new float[64];

        [KeyType(3)]
        public uint Label { get; set; }
    }

    private sealed class TwoClassRow
    {
        [VectorType(16)]
        public float[] Image { get; set; } = new float[16];

        [KeyType(2)]
        public uint Label { get; set; }
    }

    private static Exception Fit(MLContext ml, IDataView data, Action<ResNetTrainer.Options>? configure = null)
    {
        var options = TrainingFixtures.TinyOptions();
        options.Epochs = 1;
        options.BatchSize = 4;
        options.RandomCropPadding = 0;
        configure?.Invoke(options);
        return Assert.Throws<Exception>(() => ml.MulticlassClassification.Trainers.ResNet(options).Fit(data));
    }

    private static void AssertNames(Exception e, params string[] parts)
    {
        foreach (var part in parts)
            StringAssert.Contains(e.Message, part, $"in: {e.Message}");
    }

    [TestMethod]
    public void LabelOutsideTheKeyRangeNamesTheColumnAndRow()
    {
        // A data view whose key column breaks its own type's range (ML.NET's loaders map such values to missing).
        var rows = TrainingFixtures.KeyedRows(6);
        var data = new IndexedDataView<long>(rows.Length, i => i,
        [
            IndexedColumn<long>.FloatVector("Image", 16, (i, destination) => rows[i].Image.CopyTo(destination)),
            IndexedColumn<long>.ClassKey("Label", ["a", "b", "c"], i => i == 4 ? 6 : (int)rows[i].Label),
        ]);
        AssertNames(Fit(new MLContext(1), data), "Column 'Label' in the training data, row 4", "key 7", "1..3");
    }

    [TestMethod]
    public void LabelValueBeyondTheKeyCountArrivesAsMissingAndNamesTheColumnAndRow()
    {
        var ml = new MLContext(1);
        var rows = TrainingFixtures.KeyedRows(6);
        rows[2].Label = 7;
        AssertNames(Fit(ml, ml.Data.LoadFromEnumerable(rows)), "Column 'Label' in the training data, row 2", "missing");
    }

    [TestMethod]
    public void ImagesOfMixedSizesAreRefusedBeforeAnyRowIsRead()
    {
        // A vector column of unknown size may hold rows of different sizes: the schema already says it cannot be trained on.
        var ml = new MLContext(1);
        var rows = Enumerable.Range(0, 6).Select(i => new VariableRow { Image = new float[i == 3 ? 25 : 16] }).ToArray();
        var e = Fit(ml, ml.Data.LoadFromEnumerable(rows));
        Assert.IsInstanceOfType<ArgumentOutOfRangeException>(e);
        AssertNames(e, "Schema mismatch for input column 'Image'", "unknown size", "VectorType");
    }

    [TestMethod]
    public void VectorOfUnknownSizeIsRefusedEvenWhenRowsAgree()
    {
        var ml = new MLContext(1);
        var rows = Enumerable.Range(0, 6).Select(_ => new VariableRow { Image = new float[16] }).ToArray();
        AssertNames(Fit(ml, ml.Data.LoadFromEnumerable(rows)), "Schema mismatch for input column 'Image' in the training data", "unknown size");
    }

    [TestMethod]
    public void EmptyDataNamesTheImageColumn()
    {
        var ml = new MLContext(1);
        AssertNames(Fit(ml, ml.Data.LoadFromEnumerable(Array.Empty<TrainingFixtures.KeyedRow>())), "no rows", "'Image'");
    }

    [TestMethod]
    [DataRow(float.NaN)]
    [DataRow(float.PositiveInfinity)]
    public void NonFinitePixelNamesTheColumnRowAndIndex(float bad)
    {
        var ml = new MLContext(1);
        var rows = TrainingFixtures.KeyedRows(6);
        rows[5].Image[9] = bad;
        AssertNames(Fit(ml, ml.Data.LoadFromEnumerable(rows)), "Column 'Image' in the training data, row 5", "index 9", "non-finite");
    }

    [TestMethod]
    public void ValidationSetWithOtherClassesNamesTheLabelColumn()
    {
        var ml = new MLContext(1);
        var validation = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 4).Select(_ => new TwoClassRow()).ToArray());
        AssertNames(Fit(ml, ml.Data.LoadFromEnumerable(TrainingFixtures.KeyedRows(6)), o => o.ValidationSet = validation),
            "Schema mismatch for input column 'Label' in the validation set", "Key<UInt32> with 3 values", "got Key<UInt32, 0-1>");
    }

    [TestMethod]
    public void ValidationSetWithOtherImageSizeNamesTheImageColumn()
    {
        var ml = new MLContext(1);
        var validation = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 4).Select(_ => new WideRow()).ToArray());
        AssertNames(Fit(ml, ml.Data.LoadFromEnumerable(TrainingFixtures.KeyedRows(6)), o => o.ValidationSet = validation),
            "Schema mismatch for input column 'Image' in the validation set", "16 values", "got Vector<Single, 64>");
    }

    [TestMethod]
    public void ValidationSetWithoutTheLabelColumnSaysSo()
    {
        var ml = new MLContext(1);
        var validation = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 4).Select(_ => new UnlabelledRow()).ToArray());
        AssertNames(Fit(ml, ml.Data.LoadFromEnumerable(TrainingFixtures.KeyedRows(6)), o => o.ValidationSet = validation),
            "Could not find input column 'Label' in the validation set");
    }

    [TestMethod]
    public void NonKeyLabelAsksForMapValueToKey()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 4).Select(_ => new FloatLabelRow()).ToArray());
        var e = Fit(ml, data);
        Assert.IsInstanceOfType<ArgumentOutOfRangeException>(e);
        AssertNames(e, "Schema mismatch for input column 'Label' in the training data: expected Key<UInt32>, got Single", "MapValueToKey");

        var schemaError = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            ml.MulticlassClassification.Trainers.ResNet().GetOutputSchema(SchemaShape.Create(data.Schema)));
        AssertNames(schemaError, "'Label'", "Key");
    }

    [TestMethod]
    public void MissingImageColumnIsNamed()
    {
        var ml = new MLContext(1);
        var e = Fit(ml, ml.Data.LoadFromEnumerable(TrainingFixtures.KeyedRows(6)), o => o.ImageColumnName = "Pixels");
        AssertNames(e, "'Pixels'");
    }

    [TestMethod]
    public void NonSquareImagesNeedAnExplicitShape()
    {
        var ml = new MLContext(1);
        var rows = Enumerable.Range(0, 6).Select(i => new TenValueRow()).ToArray();
        var e = Fit(ml, ml.Data.LoadFromEnumerable(rows));
        AssertNames(e, "Schema mismatch for input column 'Image'", "Vector<Single, 10>", "10 values", "ResNetTrainer.Options.ImageShape");
    }

    [TestMethod]
    public void InvalidOptionsNameTheOption()
    {
        var ml = new MLContext(1);
        var e = Assert.ThrowsExactly<ArgumentException>(() =>
            ml.MulticlassClassification.Trainers.ResNet(new ResNetTrainer.Options { EarlyStoppingPatience = 2 }));
        AssertNames(e, "EarlyStoppingPatience", "ValidationSet");
        Assert.ThrowsExactly<ArgumentException>(() => ml.MulticlassClassification.Trainers.ResNet(new ResNetTrainer.Options { BatchSize = 1 }));
    }
}
