namespace Microsoft.ML.Masking.Data;

/// <summary>Turns a checked pair of IDX arrays (images, labels) into an image/label data view.</summary>
internal static class IdxImageDataView
{
    public static IDataView Create(IdxArray images, IdxArray labels, IdxLoaderOptions options)
    {
        if (images.Dimensions.Count != 3)
            throw new InvalidDataException(
                $"'{images.Path}' has {images.Dimensions.Count} dimensions; an IDX image file has 3 (count, rows, columns).");
        if (labels.Dimensions.Count != 1)
            throw new InvalidDataException(
                $"'{labels.Path}' has {labels.Dimensions.Count} dimensions; an IDX label file has 1 (count).");
        int count = images.Dimensions[0];
        if (labels.Dimensions[0] != count)
            throw new InvalidDataException(
                $"'{images.Path}' holds {count} images but '{labels.Path}' holds {labels.Dimensions[0]} labels.");
        if (!float.IsFinite(options.OffsetImage) || !float.IsFinite(options.ScaleImage) || options.ScaleImage == 0)
            throw new ArgumentException("IdxLoaderOptions.OffsetImage must be finite and ScaleImage finite and non-zero.");

        var classNames = options.ClassNames ?? DefaultClassNames(labels);
        if (classNames.Count == 0)
            throw new InvalidDataException($"'{labels.Path}' holds no labels and no class names were given, so there are no classes.");
        var classes = new int[count];
        for (int i = 0; i < count; i++)
        {
            float label = labels.Values[i];
            if (label < 0 || label >= classNames.Count || label != MathF.Floor(label))
                throw new InvalidDataException(
                    $"'{labels.Path}' label {i} is {label}; labels must be whole numbers from 0 to {classNames.Count - 1} " +
                    $"(one per class name).");
            classes[i] = (int)label;
        }

        int pixels = images.Dimensions[1] * images.Dimensions[2];
        var values = images.Values;
        float offset = options.OffsetImage, scale = options.ScaleImage;
        return new IndexedDataView<long>(count, index => index,
        [
            IndexedColumn<long>.FloatTensor(options.ImageColumnName, [1, images.Dimensions[1], images.Dimensions[2]], (row, destination) =>
            {
                var source = values.AsSpan((int)row * pixels, pixels);
                for (int p = 0; p < pixels; p++)
                    destination[p] = (source[p] - offset) * scale;
            }),
            IndexedColumn<long>.ClassKey(options.LabelColumnName, classNames, row => classes[row]),
        ]);
    }

    private static string[] DefaultClassNames(IdxArray labels)
    {
        float max = labels.Values.Length == 0 ? -1 : labels.Values.Max();
        if (max > 1_000_000)
            throw new InvalidDataException($"'{labels.Path}' has a label of {max}; that is not a class index.");
        return Enumerable.Range(0, (int)max + 1).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }
}
