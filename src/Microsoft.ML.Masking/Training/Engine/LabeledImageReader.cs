using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.ML.Data;
using Microsoft.ML.Masking.Data;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Training.Engine;

/// <summary>
/// Reads an image column and a key-typed label column into <see cref="LabeledImages"/>, checking everything the
/// trainer relies on and naming the column in every error: the types, one image size for all rows, finite pixels,
/// and labels inside the key range.
/// </summary>
internal static class LabeledImageReader
{
    /// <summary>Reads <paramref name="data"/>.</summary>
    /// <param name="data">The data.</param>
    /// <param name="imageColumnName">Float-vector image column.</param>
    /// <param name="labelColumnName">Key-typed label column.</param>
    /// <param name="shape">The image layout, or null to infer a square one- or three-channel layout.</param>
    /// <param name="dataName">How errors name the data ("training data", "validation set").</param>
    public static LabeledImages Read(IDataView data, string imageColumnName, string labelColumnName, ImageShape? shape, string dataName)
    {
        ArgumentNullException.ThrowIfNull(data);
        var imageColumn = CheckImageColumn(data.Schema, imageColumnName, dataName);
        var labelColumn = CheckLabelColumn(data.Schema, labelColumnName, dataName);
        int classCount = (int)((KeyDataViewType)labelColumn.Type).Count;
        int knownSize = ((VectorDataViewType)imageColumn.Type).Size;

        using var cursor = data.GetRowCursor([imageColumn, labelColumn]);
        var imageGetter = cursor.GetGetter<VBuffer<float>>(imageColumn);
        var labelGetter = cursor.GetGetter<uint>(labelColumn);
        var image = default(VBuffer<float>);
        uint key = 0;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        ImageShape? resolved = null;
        float[] pixels = [];
        var labels = new List<long>();
        while (cursor.MoveNext())
        {
            long row = cursor.Position;
            imageGetter(ref image);
            labelGetter(ref key);
            if (resolved is null)
            {
                resolved = ResolveShape(imageColumnName, knownSize > 0 ? knownSize : image.Length, shape, dataName);
                pixels = new float[checked((int)Math.Min((long)resolved.Value.Size * (data.GetRowCount() ?? 1024), Array.MaxLength))];
            }
            int size = resolved.Value.Size;
            if (image.Length != size)
                throw new InvalidOperationException(
                    $"Image column '{imageColumnName}' of the {dataName}: row {row} has {image.Length} values but the images are {resolved} " +
                    $"({size} values). All images must have the same size; resize them (ResizeImages) before training.");
            if (key == 0)
                throw new InvalidOperationException($"Label column '{labelColumnName}' of the {dataName}: row {row} has a missing label (key value 0; ML.NET also stores " +
                    "values outside the key's range as missing when it makes the key).");
            if (key > classCount)
                throw new InvalidOperationException(
                    $"Label column '{labelColumnName}' of the {dataName}: row {row} holds key {key}, outside its key type's range 1..{classCount}.");

            long offset = (long)labels.Count * size;
            if (offset + size > pixels.LongLength)
                Array.Resize(ref pixels, (int)Math.Min(Math.Max(pixels.LongLength * 2, offset + size), Array.MaxLength));
            var destination = pixels.AsSpan((int)offset, size);
            image.CopyTo(destination);
            int bad = IndexOfNonFinite(destination);
            if (bad >= 0)
                throw new InvalidOperationException(
                    $"Image column '{imageColumnName}' of the {dataName}: row {row} has a non-finite value ({destination[bad]}) at index {bad}; " +
                    "pixels must be finite numbers.");
            hash.AppendData(MemoryMarshal.AsBytes(destination));
            hash.AppendData(BitConverter.GetBytes(key));
            labels.Add(key - 1);
        }
        if (labels.Count == 0 || resolved is null)
            throw new InvalidOperationException($"The {dataName} has no rows; the ResNet trainer needs images in column '{imageColumnName}'.");

        var s = resolved.Value;
        var imageTensor = tensor(pixels.AsSpan(0, labels.Count * s.Size).ToArray(), [labels.Count, s.Channels, s.Height, s.Width]);
        var labelTensor = tensor(labels.ToArray(), ScalarType.Int64);
        return new LabeledImages(imageTensor, labelTensor, s, classCount, KeyValueAnnotations.Read(labelColumn),
            Convert.ToHexString(hash.GetHashAndReset()));
    }

    /// <summary>Checks that <paramref name="validation"/> has the training data's label key type, key values and image size.</summary>
    public static void CheckSameSchema(LabeledImages training, LabeledImages validation, string imageColumnName, string labelColumnName)
    {
        if (validation.ClassCount != training.ClassCount)
            throw new InvalidOperationException(
                $"Label column '{labelColumnName}' of the validation set has {validation.ClassCount} classes but the training data's has {training.ClassCount}; " +
                "build both keys with the same MapValueToKey.");
        if (training.ClassNames is not null && validation.ClassNames is not null && !training.ClassNames.SequenceEqual(validation.ClassNames))
            throw new InvalidOperationException(
                $"Label column '{labelColumnName}' of the validation set names its classes differently from the training data's " +
                $"([{string.Join(", ", validation.ClassNames)}] vs [{string.Join(", ", training.ClassNames)}]).");
        if (validation.Shape != training.Shape)
            throw new InvalidOperationException(
                $"Image column '{imageColumnName}' of the validation set holds {validation.Shape} images but the training data {training.Shape}.");
    }

    private static DataViewSchema.Column CheckImageColumn(DataViewSchema schema, string name, string dataName)
    {
        var column = schema.GetColumnOrNull(name)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"Could not find image column '{name}' in the {dataName}.");
        if (column.Type is not VectorDataViewType { ItemType: var item } || item != NumberDataViewType.Single)
            throw new ArgumentOutOfRangeException(nameof(schema),
                $"Schema mismatch for image column '{name}' in the {dataName}: expected a vector of Single (channels × height × width), got {column.Type}.");
        return column;
    }

    private static DataViewSchema.Column CheckLabelColumn(DataViewSchema schema, string name, string dataName)
    {
        var column = schema.GetColumnOrNull(name)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"Could not find label column '{name}' in the {dataName}.");
        if (column.Type is not KeyDataViewType { RawType: var raw, Count: > 0 } || raw != typeof(uint))
            throw new ArgumentOutOfRangeException(nameof(schema),
                $"Schema mismatch for label column '{name}' in the {dataName}: expected Key<UInt32>, got {column.Type}. " +
                "Convert labels with mlContext.Transforms.Conversion.MapValueToKey.");
        return column;
    }

    private static ImageShape ResolveShape(string columnName, int size, ImageShape? shape, string dataName)
    {
        if (shape is { } given)
        {
            if (given.Size != size)
                throw new InvalidOperationException(
                    $"Image column '{columnName}' of the {dataName} has {size} values per row but ImageShape {given} needs {given.Size}.");
            return given;
        }
        return ImageShape.InferSquare(size) ?? throw new InvalidOperationException(
            $"Image column '{columnName}' of the {dataName} has {size} values per row, which is not a square image with 1 or 3 channels; " +
            "set ResNetTrainer.Options.ImageShape.");
    }

    private static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i]))
                return i;
        return -1;
    }
}
