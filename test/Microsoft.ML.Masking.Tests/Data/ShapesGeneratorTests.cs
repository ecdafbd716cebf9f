using Microsoft.ML.Data;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Tests.TestDoubles;

namespace Microsoft.ML.Masking.Tests.Data;

[TestClass]
public sealed class ShapesGeneratorTests
{
    [TestMethod]
    public void SameSeedGivesTheSameImagesAndAnotherSeedOthers()
    {
        var a = new ShapesGenerator(new ShapesOptions { Seed = 5 });
        var b = new ShapesGenerator(new ShapesOptions { Seed = 5 });
        var c = new ShapesGenerator(new ShapesOptions { Seed = 6 });

        for (int i = 0; i < 20; i++)
        {
            CollectionAssert.AreEqual(a.Render(i).Image, b.Render(i).Image, $"image {i}");
            CollectionAssert.AreEqual(a.Render(i).ObjectMask, b.Render(i).ObjectMask, $"mask {i}");
        }
        Assert.IsTrue(Enumerable.Range(0, 20).All(i => !a.Render(i).Image.SequenceEqual(c.Render(i).Image)));
    }

    [TestMethod]
    public void DataViewRowsEqualRenderedImagesInAnyCursorOrder()
    {
        var options = new ShapesOptions { Count = 12, Seed = 3, ImageSize = 16 };
        var ml = new MLContext(1);
        var data = ml.Data.LoadShapes(options);
        var generator = new ShapesGenerator(options);

        var images = TestData.Vectors(data, "Image");
        var masks = TestData.Vectors(data, "ObjectMask");
        var labels = TestData.Column<uint>(data, "Label");
        for (int i = 0; i < options.Count; i++)
        {
            var sample = generator.Render(i);
            CollectionAssert.AreEqual(sample.Image, images[i]);
            CollectionAssert.AreEqual(sample.ObjectMask, masks[i]);
            Assert.AreEqual((uint)sample.Label + 1, labels[i]);
        }
        var shuffled = TestData.Vectors(ml.Data.ShuffleRows(data, seed: 9), "Image");
        CollectionAssert.AreEquivalent(images.Select(v => string.Join(",", v)).ToList(), shuffled.Select(v => string.Join(",", v)).ToList());
    }

    [TestMethod]
    public void SchemaHasPlanarRgbImagesShapeNamedKeysAndMasks()
    {
        var data = new MLContext(1).Data.LoadShapes(new ShapesOptions { ImageSize = 32, Count = 3 });

        Assert.AreEqual(3 * 32 * 32, ((VectorDataViewType)data.Schema["Image"].Type).Size);
        Assert.AreEqual(32 * 32, ((VectorDataViewType)data.Schema["ObjectMask"].Type).Size);
        var keyValues = default(VBuffer<ReadOnlyMemory<char>>);
        data.Schema["Label"].GetKeyValues(ref keyValues);
        CollectionAssert.AreEqual(Enum.GetNames<ShapeKind>(), keyValues.DenseValues().Select(v => v.ToString()).ToArray());
    }

    [TestMethod]
    [DataRow(32)]
    [DataRow(64)]
    public void MaskCoversExactlyThePixelsPaintedWithTheObjectColour(int size)
    {
        var generator = new ShapesGenerator(new ShapesOptions { ImageSize = size, Seed = 11 });
        int pixels = size * size;
        float minimumDifference = ShapesGenerator.MinimumContrast - ShapesGenerator.MaximumTextureDeviation;
        var seen = new HashSet<ShapeKind>();
        for (int i = 0; i < 64; i++)
        {
            var s = generator.Render(i);
            seen.Add(s.Shape);
            float[] color = [s.Color.R, s.Color.G, s.Color.B];
            Assert.IsTrue(s.ObjectMask.All(m => m is 0f or 1f), "the mask is binary");
            for (int p = 0; p < pixels; p++)
            {
                float largestDifference = 0;
                for (int c = 0; c < 3; c++)
                {
                    float value = s.Image[c * pixels + p], background = s.Background[c * pixels + p];
                    if (s.ObjectMask[p] == 1)
                        Assert.AreEqual(color[c], value, $"image {i} pixel {p}: object pixels have the object colour");
                    else
                        Assert.AreEqual(background, value, $"image {i} pixel {p}: other pixels are untouched background");
                    largestDifference = Math.Max(largestDifference, Math.Abs(value - background));
                }
                if (s.ObjectMask[p] == 1)
                    Assert.IsGreaterThanOrEqualTo(minimumDifference - 1e-6f, largestDifference, $"image {i} pixel {p}: the object is visible");
            }
        }
        Assert.HasCount(Enum.GetValues<ShapeKind>().Length, seen, "64 images show every shape");
    }

    [TestMethod]
    public void MaskAreaMatchesTheShapesGeometry()
    {
        // The rasterised area can differ from the true area only by pixels the outline crosses.
        var generator = new ShapesGenerator(new ShapesOptions { ImageSize = 64, Seed = 2 });
        for (int i = 0; i < 40; i++)
        {
            var s = generator.Render(i);
            double expected = ShapeGeometry.Area(s.Shape) * s.Radius * s.Radius;
            double measured = s.ObjectMask.Sum();
            double outlinePixels = 2 * Math.PI * s.Radius * 2.5; // the longest outline (star) is under 2.5 times a circle's
            Assert.AreEqual(expected, measured, outlinePixels * 0.5, $"image {i} ({s.Shape}, radius {s.Radius:F1})");
        }
    }

    [TestMethod]
    public void RingHoleShowsTheBackgroundAndIsNotPartOfTheObject()
    {
        var generator = new ShapesGenerator(new ShapesOptions { ImageSize = 64, Seed = 4, Shapes = [ShapeKind.Ring], MinRadiusFraction = 0.8 });
        var s = generator.Render(0);
        int size = 64, centre = (int)s.Center.Y * size + (int)s.Center.X;

        Assert.AreEqual(0f, s.ObjectMask[centre]);
        Assert.AreEqual(s.Background[centre], s.Image[centre]);
    }

    [TestMethod]
    public void ObjectsStayInsideTheImage()
    {
        var generator = new ShapesGenerator(new ShapesOptions { ImageSize = 16, MaxRadiusFraction = 1, Seed = 8 });
        for (int i = 0; i < 100; i++)
        {
            var s = generator.Render(i);
            Assert.IsTrue(s.Center.X - s.Radius >= 0 && s.Center.X + s.Radius <= 16 && s.Center.Y - s.Radius >= 0 && s.Center.Y + s.Radius <= 16);
            Assert.IsGreaterThan(0f, s.ObjectMask.Sum(), $"image {i} has object pixels");
        }
    }

    [TestMethod]
    public void InvalidOptionsNameTheOption()
    {
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ShapesGenerator(new ShapesOptions { ImageSize = 8 }));
        Assert.AreEqual(nameof(ShapesOptions.ImageSize), e.ParamName);
        Assert.ThrowsExactly<ArgumentException>(() => new ShapesGenerator(new ShapesOptions { Shapes = [] }));
        Assert.ThrowsExactly<ArgumentException>(() => new ShapesGenerator(new ShapesOptions { MinRadiusFraction = 0.9, MaxRadiusFraction = 0.5 }));
    }
}
