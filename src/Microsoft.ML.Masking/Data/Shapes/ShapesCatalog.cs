using Microsoft.ML.Masking.Data;

namespace Microsoft.ML;

/// <summary>Loader of the synthetic shapes data set.</summary>
public static class ShapesCatalog
{
    /// <summary>
    /// The synthetic shapes data set as a lazy <see cref="IDataView"/>: an image column (3 × size × size floats
    /// in [0, 1], planar RGB with dimensions [3, size, size], as ExtractPixels writes them), a key-typed label
    /// column named by the shapes, and the ground-truth object mask (size × size, 1 on the object, dimensions
    /// [size, size]). Rows are rendered when a cursor reads them;
    /// every pass, shuffled or not, sees the same images.
    /// </summary>
    /// <param name="catalog">The data catalog.</param>
    /// <param name="options">Size, count, seed, classes and column names; null for the defaults.</param>
    public static IDataView LoadShapes(this DataOperationsCatalog catalog, ShapesOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var generator = new ShapesGenerator(options ?? new ShapesOptions());
        var o = generator.Options;
        return new IndexedDataView<ShapeSample>(o.Count, generator.Render,
        [
            IndexedColumn<ShapeSample>.FloatTensor(o.ImageColumnName, [3, o.ImageSize, o.ImageSize], (s, destination) => s.Image.CopyTo(destination)),
            IndexedColumn<ShapeSample>.ClassKey(o.LabelColumnName, generator.ClassNames, s => s.Label),
            IndexedColumn<ShapeSample>.FloatTensor(o.ObjectMaskColumnName, [o.ImageSize, o.ImageSize], (s, destination) => s.ObjectMask.CopyTo(destination)),
        ]);
    }
}
