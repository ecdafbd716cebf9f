using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core.Randomness;
using Microsoft.ML.Masking.Masks;
using Microsoft.ML.Masking.Tests.FreshProcess;
using Microsoft.ML.Masking.Tests.TestDoubles;

namespace Microsoft.ML.Masking.Tests.Masks;

/// <summary>The mask-making transforms: exact masks for hand-worked cases, per-row seeds, validation, save and load.</summary>
[TestClass]
public sealed class KeepMaskTransformTests
{
    private const int Height = 4, Width = 5, Pixels = Height * Width;

    public TestContext TestContext { get; set; } = null!;

    private sealed class ImageRow
    {
        public float[] Pixels { get; set; } = [];
        public float[] Segments { get; set; } = [];
        public float[] Other { get; set; } = [];
    }

    /// <summary><paramref name="count"/> rows: 3×4×5 planar pixels (dimensions set), 4×5 segment ids, and a 4×5 mask.</summary>
    private static IDataView Images(MLContext ml, int count, float[]? segments = null, float[]? other = null)
    {
        var schema = SchemaDefinition.Create(typeof(ImageRow));
        schema[nameof(ImageRow.Pixels)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3, Height, Width);
        schema[nameof(ImageRow.Segments)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Height, Width);
        schema[nameof(ImageRow.Other)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Height, Width);
        var rows = Enumerable.Range(0, count).Select(i => new ImageRow
        {
            Pixels = Enumerable.Range(0, 3 * Pixels).Select(p => (float)((p * 7 + i) % 11) / 10f).ToArray(),
            Segments = segments ?? new float[Pixels],
            Other = other ?? Enumerable.Repeat(1f, Pixels).ToArray(),
        }).ToArray();
        return ml.Data.LoadFromEnumerable(rows, schema);
    }

    /// <summary>A 4×5 mask written as rows of '1'/'0' characters, e.g. "11001".</summary>
    private static float[] Mask(params string[] rows) => string.Concat(rows).Select(c => c == '1' ? 1f : 0f).ToArray();

    [TestMethod]
    public void BoxMaskRemovesExactlyTheBoxesAndSetsTheDimensions()
    {
        var ml = new MLContext(1);
        var data = Images(ml, 2);
        var masked = ml.Transforms.BoxMask("Mask", "Pixels", [new MaskBox(1, 0, 2, 2), new MaskBox(4, 3, 1, 1)]).Fit(data).Transform(data);

        var type = (VectorDataViewType)masked.Schema["Mask"].Type;
        CollectionAssert.AreEqual(new[] { Height, Width }, type.Dimensions.ToArray());
        var expected = Mask("10011", "10011", "11111", "11110");
        foreach (var mask in TestData.Vectors(masked, "Mask"))
            CollectionAssert.AreEqual(expected, mask);

        var kept = ml.Transforms.BoxMask("Mask", "Pixels", [new MaskBox(0, 1, 5, 2)], MaskSelection.Keep).Fit(data).Transform(data);
        CollectionAssert.AreEqual(Mask("00000", "11111", "11111", "00000"), TestData.Vectors(kept, "Mask")[0]);
    }

    [TestMethod]
    public void PatchGridRemovesTheRoundedFractionOfPatchesDrawnFromTheRowsSeed()
    {
        var ml = new MLContext(1);
        var data = Images(ml, 6);
        // 2-pixel patches on 4×5: 2 rows × 3 columns = 6 patches, the last column 1 pixel wide.
        var masks = TestData.Vectors(ml.Transforms.PatchGridMask("Mask", "Pixels", patchSize: 2, removeFraction: 0.5, seed: 3).Fit(data).Transform(data), "Mask");

        for (int row = 0; row < masks.Count; row++)
        {
            var order = SeedMixer.Random(3, SeedStream.PatchMask, row).Permutation(6);
            var expected = new float[Pixels];
            for (int p = 0; p < Pixels; p++)
            {
                int patch = p / Width / 2 * 3 + p % Width / 2;
                expected[p] = order.Take(3).Contains(patch) ? 0f : 1f;
            }
            CollectionAssert.AreEqual(expected, masks[row], $"row {row}");
        }
        Assert.IsTrue(masks.Skip(1).Any(m => !m.SequenceEqual(masks[0])), "each row draws its own patches");

        var none = TestData.Vectors(ml.Transforms.PatchGridMask("Mask", "Pixels", 2, removeFraction: 0).Fit(data).Transform(data), "Mask");
        Assert.IsTrue(none.All(m => m.All(v => v == 1f)));
        var all = TestData.Vectors(ml.Transforms.PatchGridMask("Mask", "Pixels", 2, removeFraction: 1).Fit(data).Transform(data), "Mask");
        Assert.IsTrue(all.All(m => m.All(v => v == 0f)));
    }

    [TestMethod]
    public void PatchGridMasksAreTheSameInAnyBatchAndThroughAPredictionEngine()
    {
        var ml = new MLContext(1);
        var data = Images(ml, 150); // more than one internal batch of 64 rows
        var model = ml.Transforms.PatchGridMask("Mask", "Pixels", patchSize: 2, removeFraction: 0.4, seed: 11).Fit(data);
        var all = TestData.Vectors(model.Transform(data), "Mask");

        // Rows 64 and later fall in the second and third internal batch; each still gets its own position's draw.
        for (int i = 0; i < all.Count; i++)
            CollectionAssert.AreEqual(SeedMixer.Random(11, SeedStream.PatchMask, i).Permutation(6).Take(2).Order().ToArray(), RemovedPatches(all[i]), $"row {i}");

        var engine = ml.Model.CreatePredictionEngine<ImageRow, MaskRow>(model, inputSchemaDefinition: SchemaOf());
        var rows = ml.Data.CreateEnumerable<ImageRow>(data, reuseRowObject: false).Take(3).ToArray();
        for (int i = 0; i < rows.Length; i++)
            CollectionAssert.AreEqual(all[i], engine.Predict(rows[i]).Mask, $"prediction {i}");
        Assert.HasCount(150, all);
    }

    private static int[] RemovedPatches(float[] mask) =>
        Enumerable.Range(0, 6).Where(patch => mask[patch / 3 * 2 * Width + patch % 3 * 2] == 0f).ToArray();

    private static SchemaDefinition SchemaOf()
    {
        var schema = SchemaDefinition.Create(typeof(ImageRow));
        schema[nameof(ImageRow.Pixels)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3, Height, Width);
        schema[nameof(ImageRow.Segments)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Height, Width);
        schema[nameof(ImageRow.Other)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Height, Width);
        return schema;
    }

    private sealed class MaskRow
    {
        [VectorType(Height * Width)]
        public float[] Mask { get; set; } = [];
    }

    [TestMethod]
    public void SegmentMaskRemovesOrKeepsTheUnionOfTheChosenSegments()
    {
        var ml = new MLContext(1);
        float[] segments = [0, 0, 1, 1, 7, 0, 0, 1, 1, 7, 2, 2, 3, 3, 7, 2, 2, 3, 3, 7];
        var data = Images(ml, 1, segments);

        var removed = TestData.Vectors(ml.Transforms.SegmentMask("Mask", "Segments", [1, 7]).Fit(data).Transform(data), "Mask")[0];
        CollectionAssert.AreEqual(Mask("11000", "11000", "11110", "11110"), removed);
        var kept = TestData.Vectors(ml.Transforms.SegmentMask("Mask", "Segments", [3, 42], MaskSelection.Keep).Fit(data).Transform(data), "Mask")[0];
        CollectionAssert.AreEqual(Mask("00000", "00000", "00110", "00110"), kept);

        var bad = Images(ml, 2, segments.Select((v, p) => p == 6 ? 1.5f : v).ToArray());
        var error = Assert.Throws<InvalidOperationException>(() => TestData.Vectors(ml.Transforms.SegmentMask("Mask", "Segments", [1]).Fit(bad).Transform(bad), "Mask"));
        StringAssert.Contains(error.Message, "Column 'Segments', row 0");
        StringAssert.Contains(error.Message, "pixel 6 (y 1, x 1) holds 1.5");
    }

    [TestMethod]
    public void CombinedMasksRemoveWhatAnyRemovesOrKeepWhatAnyKeeps()
    {
        var ml = new MLContext(1);
        var other = Mask("11111", "00000", "11111", "11111");
        var data = Images(ml, 1, other: other);
        var boxes = ml.Transforms.BoxMask("Box", "Pixels", [new MaskBox(0, 0, 1, 4)]);

        var union = TestData.Vectors(boxes.Append(ml.Transforms.CombineMasks("Mask", ["Box", "Other"])).Fit(data).Transform(data), "Mask")[0];
        CollectionAssert.AreEqual(Mask("01111", "00000", "01111", "01111"), union);
        var either = TestData.Vectors(boxes.Append(ml.Transforms.CombineMasks("Mask", ["Box", "Other"], MaskCombination.UnionOfKept)).Fit(data).Transform(data), "Mask")[0];
        CollectionAssert.AreEqual(Mask("11111", "01111", "11111", "11111"), either);

        var notBinary = Images(ml, 1, other: Enumerable.Repeat(0.5f, Pixels).ToArray());
        var error = Assert.Throws<InvalidOperationException>(() => TestData.Vectors(boxes.Append(ml.Transforms.CombineMasks("Mask", ["Box", "Other"])).Fit(notBinary).Transform(notBinary), "Mask"));
        StringAssert.Contains(error.Message, "Column 'Other', row 0");
    }

    [TestMethod]
    public void ThresholdKeepsPixelsWhoseChannelMeanReachesIt()
    {
        var ml = new MLContext(1);
        var data = Images(ml, 1);
        var pixels = TestData.Vectors(data, "Pixels")[0];
        var mask = TestData.Vectors(ml.Transforms.ThresholdMask(new ThresholdMaskOptions { InputColumnName = "Pixels", Threshold = 0.45f }).Fit(data).Transform(data), "Mask")[0];
        var inverted = TestData.Vectors(ml.Transforms.ThresholdMask(new ThresholdMaskOptions { InputColumnName = "Pixels", Threshold = 0.45f, Invert = true }).Fit(data).Transform(data), "Mask")[0];
        for (int p = 0; p < Pixels; p++)
        {
            float mean = (pixels[p] + pixels[Pixels + p] + pixels[2 * Pixels + p]) / 3;
            Assert.AreEqual(mean >= 0.45f ? 1f : 0f, mask[p], $"pixel {p}, mean {mean}");
            Assert.AreEqual(1f - mask[p], inverted[p]);
        }
        Assert.IsTrue(mask.Contains(0f) && mask.Contains(1f), "the case tests both sides of the threshold");
    }

    [TestMethod]
    public void MasksReadFromPngFilesFollowTheirWhitePixels()
    {
        var ml = new MLContext(1);
        var folder = TestFolders.Create(TestContext, "png-masks");
        var expected = WriteMaskPngs(folder, count: 2);
        var paths = expected.Keys.Select(p => new PathRow { MaskPath = p }).ToArray();
        var data = ml.Data.LoadFromEnumerable(paths);

        var masked = ml.Transforms.LoadImageMask(Width, Height, resizing: Microsoft.ML.Transforms.Image.ImageResizingEstimator.ResizingKind.Fill).Fit(data).Transform(data);

        CollectionAssert.AreEqual(new[] { Height, Width }, ((VectorDataViewType)masked.Schema["Mask"].Type).Dimensions.ToArray());
        Assert.IsNull(masked.Schema.GetColumnOrNull("MaskPixels"), "the helper columns are dropped");
        var masks = TestData.Vectors(masked, "Mask");
        for (int i = 0; i < paths.Length; i++)
            CollectionAssert.AreEqual(expected[paths[i].MaskPath], masks[i], paths[i].MaskPath);
    }

    private sealed class PathRow
    {
        public string MaskPath { get; set; } = "";
    }

    /// <summary>Writes 5×4 black-and-white PNGs; returns each path with the keep-mask it paints.</summary>
    private static Dictionary<string, float[]> WriteMaskPngs(string folder, int count)
    {
        var result = new Dictionary<string, float[]>();
        for (int i = 0; i < count; i++)
        {
            var keep = Enumerable.Range(0, Pixels).Select(p => (p * 3 + i) % 4 == 0 ? 0f : 1f).ToArray();
            var rgba = new byte[Pixels * 4];
            for (int p = 0; p < Pixels; p++)
            {
                byte v = keep[p] == 1f ? (byte)255 : (byte)0;
                rgba[4 * p] = rgba[4 * p + 1] = rgba[4 * p + 2] = v;
                rgba[4 * p + 3] = 255;
            }
            var path = Path.Combine(folder, $"mask{i}.png");
            using (var image = MLImage.CreateFromPixels(Width, Height, MLPixelFormat.Rgba32, rgba))
                image.Save(path);
            result[path] = keep;
        }
        return result;
    }

    [TestMethod]
    public void BadOptionsAndColumnsAreNamed()
    {
        var ml = new MLContext(1);
        var data = Images(ml, 1);
        void Named<T>(Action act, params string[] words) where T : Exception
        {
            var e = Assert.Throws<T>(act);
            foreach (var word in words)
                StringAssert.Contains(e.Message, word);
        }

        Named<ArgumentOutOfRangeException>(() => ml.Transforms.PatchGridMask("Mask", "Pixels", 2, removeFraction: 1.5), "RemoveFraction", "[0, 1]");
        Named<ArgumentOutOfRangeException>(() => ml.Transforms.PatchGridMask("Mask", "Pixels", 2, removeFraction: double.NaN), "RemoveFraction");
        Named<ArgumentOutOfRangeException>(() => ml.Transforms.PatchGridMask("Mask", "Pixels", patchSize: 0), "PatchSize");
        Named<ArgumentOutOfRangeException>(() => ml.Transforms.PatchGridMask("Mask", "Pixels", patchSize: 6).Fit(data), "PatchSize", "5×4", "'Pixels'");
        Named<ArgumentOutOfRangeException>(() => ml.Transforms.BoxMask("Mask", "Pixels", [new MaskBox(4, 0, 2, 1)]).Fit(data), "Boxes[0]", "outside", "5×4");
        Named<ArgumentOutOfRangeException>(() => ml.Transforms.BoxMask("Mask", "Pixels", [new MaskBox(0, 0, 0, 1)]), "Boxes[0]");
        Named<ArgumentException>(() => ml.Transforms.BoxMask("Mask", "Pixels", []), "at least one box");
        Named<ArgumentOutOfRangeException>(() => ml.Transforms.SegmentMask("Mask", "Segments", [-1]), "SegmentIds[0]");
        Named<ArgumentException>(() => ml.Transforms.CombineMasks("Mask", ["Other"]), "at least two");
        Named<ArgumentOutOfRangeException>(() => ml.Transforms.ThresholdMask(new ThresholdMaskOptions { Threshold = float.NaN }), "Threshold");
        Named<ArgumentOutOfRangeException>(() => ml.Transforms.PatchGridMask("Mask", "Absent").Fit(data), "Could not find input column 'Absent'");
        Named<ArgumentOutOfRangeException>(() => ml.Transforms.SegmentMask("Mask", "Pixels", [1]).Fit(data), "'Pixels'", "one value per pixel");
        Named<ArgumentException>(() => ml.Transforms.PatchGridMask(new PatchGridMaskOptions { InputColumnName = "Pixels", ImageWidth = 4, ImageHeight = 4 }).Fit(data), "ImageWidth", "'Pixels'", "5×4");
        Named<ArgumentException>(() => ml.Transforms.PatchGridMask(new PatchGridMaskOptions { InputColumnName = "Pixels", ImageWidth = 5 }), "ImageHeight");
        Named<ArgumentException>(() => ml.Transforms.ThresholdMask(new ThresholdMaskOptions { InputColumnName = "Pixels" }).GetOutputSchema(SchemaShape.Create(ml.Data.LoadFromEnumerable(new[] { new PathRow() }).Schema)), "Pixels");
    }

    [TestMethod]
    [Timeout(180_000, CooperativeCancellation = true)]
    public void APipelineOfMaskTransformsSavesAndLoadsInAFreshProcessWithTheSameMasks()
    {
        var folder = TestFolders.Create(TestContext, "mask-model");
        var imageFolder = Path.Combine(folder, "images");
        Directory.CreateDirectory(imageFolder);
        WriteMaskPngs(imageFolder, count: 5);
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Directory.GetFiles(imageFolder, "*.png").Order(StringComparer.Ordinal)
            .Select(p => new SavedModelScoring.ImageInput { ImagePath = Path.GetFileName(p) }).ToArray());
        var pipeline = ml.Transforms.LoadImages("Bitmap", imageFolder, nameof(SavedModelScoring.ImageInput.ImagePath))
            .Append(ml.Transforms.ResizeImages("Bitmap", Width, Height, resizing: Microsoft.ML.Transforms.Image.ImageResizingEstimator.ResizingKind.Fill))
            .Append(ml.Transforms.ExtractPixels("MaskPixels", "Bitmap", scaleImage: 1f / 255f))
            .Append(ml.Transforms.ThresholdMask(new ThresholdMaskOptions { InputColumnName = "MaskPixels", OutputColumnName = "FileMask" }))
            .Append(ml.Transforms.PatchGridMask("Patches", "MaskPixels", patchSize: 2, removeFraction: 0.5, seed: 4))
            .Append(ml.Transforms.CombineMasks(SavedModelScoring.ScoreColumn, ["FileMask", "Patches"]));
        var model = pipeline.Fit(data);
        var expected = TestData.Vectors(model.Transform(data), SavedModelScoring.ScoreColumn).SelectMany(v => v).ToArray();
        var modelPath = Path.Combine(folder, "model.zip");
        ml.Model.Save(model, data.Schema, modelPath);

        var reloaded = ml.Model.Load(modelPath, out _);
        CollectionAssert.AreEqual(expected, TestData.Vectors(reloaded.Transform(data), SavedModelScoring.ScoreColumn).SelectMany(v => v).ToArray(), "same process");

        var outputPath = Path.Combine(folder, "masks.bin");
        FreshProcessRunner.Run(SavedModelScoring.Command, modelPath, imageFolder, outputPath);
        CollectionAssert.AreEqual(expected, FreshProcessRunner.ReadFloats(outputPath), "fresh process");
        Assert.IsTrue(expected.Contains(0f) && expected.Contains(1f));
    }
}
