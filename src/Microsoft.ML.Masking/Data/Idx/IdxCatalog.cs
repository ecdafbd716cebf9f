using Microsoft.ML.Masking.Data;

namespace Microsoft.ML;

/// <summary>Loaders for image data sets stored in the IDX format (MNIST, Fashion-MNIST).</summary>
public static class IdxCatalog
{
    /// <summary>
    /// Loads an IDX image file (count × rows × columns) and its IDX label file (count) into an in-memory
    /// <see cref="IDataView"/> with a float-vector image column (rows × columns, row-major, one channel: dimensions
    /// [1, rows, columns] as ExtractPixels would declare them; scaled as <paramref name="options"/> says) and a key-typed label column whose key values are the class names.
    /// Either file may be gzip-compressed.
    /// </summary>
    /// <param name="catalog">The data catalog.</param>
    /// <param name="imagesPath">The IDX image file.</param>
    /// <param name="labelsPath">The IDX label file.</param>
    /// <param name="options">Column names, pixel scaling and class names; null for the defaults.</param>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidDataException">A file is malformed, the two files disagree, or a label is not a class.</exception>
    public static IDataView LoadIdx(this DataOperationsCatalog catalog, string imagesPath, string labelsPath, IdxLoaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrEmpty(imagesPath);
        ArgumentException.ThrowIfNullOrEmpty(labelsPath);
        return IdxImageDataView.Create(IdxFile.Read(imagesPath), IdxFile.Read(labelsPath), options ?? new IdxLoaderOptions());
    }

    /// <summary>
    /// Loads one split of Fashion-MNIST from <paramref name="directory"/> (default: where Debian's
    /// <c>dataset-fashion-mnist</c> package installs it): an "Image" column of 784 floats in [0, 1] (28×28,
    /// row-major, one channel; override with <paramref name="options"/>) and a "Label" key column named by
    /// <see cref="FashionMnist.ClassNames"/>.
    /// </summary>
    /// <param name="catalog">The data catalog.</param>
    /// <param name="split">Train (60,000 images) or Test (10,000).</param>
    /// <param name="directory">The directory with the four IDX files (gzip-compressed or not).</param>
    /// <param name="options">Column names and pixel scaling; null for the defaults. Class names default to Fashion-MNIST's.</param>
    /// <exception cref="FileNotFoundException">The files are missing; the message says how to install them.</exception>
    public static IDataView LoadFashionMnist(this DataOperationsCatalog catalog, FashionMnistSplit split,
        string directory = FashionMnist.DefaultDirectory, IdxLoaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var (images, labels) = FashionMnist.Files(split, directory);
        options ??= new IdxLoaderOptions();
        options.ClassNames ??= FashionMnist.ClassNames;
        return catalog.LoadIdx(images, labels, options);
    }
}
