using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.ML.Masking.Core.Batching;
using Microsoft.ML.Masking.Data;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core.Training;

/// <summary>
/// The training examples of a <see cref="TrainingLoop"/>, held once, compactly, as CPU tensors: images
/// [N, C, H, W] float32, and when read, labels [N] int64 (0-based) and weights [N] float32.
/// </summary>
/// <remarks>
/// Why a copy at all: every epoch visits the rows in a fresh random order drawn from (seed, epoch), which is what
/// makes a resumed run equal an uninterrupted one; an <see cref="IDataView"/> gives sequential cursors, and a
/// shuffling cursor's order is up to each view (and costly for a transformed pipeline). So the rows are read once,
/// streamed batch by batch from the data view straight into one preallocated tensor: one copy of the pixels (the
/// float32 size of the data set), no managed intermediate. Validation data is not copied; it is streamed.
/// </remarks>
internal sealed class TrainingExamples : IDisposable
{
    private const int ReadBatchSize = 1024;

    private TrainingExamples(Tensor images, Tensor? labels, Tensor? weights, ImageShape shape, int classCount,
        IReadOnlyList<string>? classNames, string contentHash)
    {
        Images = images;
        Labels = labels;
        Weights = weights;
        Shape = shape;
        ClassCount = classCount;
        ClassNames = classNames;
        ContentHash = contentHash;
    }

    /// <summary>Images [N, C, H, W], float32, as read (not normalised).</summary>
    public Tensor Images { get; }

    /// <summary>0-based class indices [N], int64; null when no label column was read.</summary>
    public Tensor? Labels { get; }

    /// <summary>Example weights [N], float32; null when no weight column was read.</summary>
    public Tensor? Weights { get; }

    /// <summary>The image layout.</summary>
    public ImageShape Shape { get; }

    /// <summary>Classes of the label column (0 without labels).</summary>
    public int ClassCount { get; }

    /// <summary>The label column's key values, or null when it has none.</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    /// <summary>SHA-256 of the pixels (and labels and weights), so a checkpoint is resumed only on the data it was trained on.</summary>
    public string ContentHash { get; }

    /// <summary>Number of examples.</summary>
    public int Count => (int)Images.shape[0];

    /// <summary>
    /// Reads every row of <paramref name="reader"/>: its first image column, and its first label and weight columns
    /// when it declares them. Every value is checked as the reader's column rules say.
    /// </summary>
    /// <exception cref="InvalidOperationException">The data has no rows, more than <see cref="int.MaxValue"/> rows, or a bad value.</exception>
    public static TrainingExamples Read(DataViewBatchReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var binding = reader.Binding;
        var image = binding.First(BatchColumnKind.Image) ?? throw new ArgumentException("The read declares no image column.", nameof(reader));
        var label = binding.First(BatchColumnKind.Label);
        var weight = binding.First(BatchColumnKind.Weight);
        var shape = image.Shape!.Value;
        string dataName = reader.DataName ?? "data";
        long rows = reader.CountRows();
        if (rows == 0)
            throw new InvalidOperationException($"The {dataName} has no rows; training needs images in column '{image.Name}'.");
        if (rows > int.MaxValue)
            throw new InvalidOperationException($"The {dataName} has {rows} rows; training holds at most {int.MaxValue}.");

        var images = empty([rows, shape.Channels, shape.Height, shape.Width], ScalarType.Float32);
        var labels = label is null ? null : new long[rows];
        var weights = weight is null ? null : new float[rows];
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long read = 0;
        try
        {
            foreach (var batch in reader.Batches(ReadBatchSize))
            {
                if (read + batch.Count > rows)
                    throw new InvalidOperationException($"The {dataName} returned more rows than it said it has ({rows}); training needs a deterministic data view.");
                var pixels = batch[image.Name];
                using (var chunk = pixels.ToTensor(batch.Count, device: null))
                using (var target = images.narrow(0, read, batch.Count))
                    target.copy_(chunk);
                for (int i = 0; i < batch.Count; i++)
                {
                    hash.AppendData(MemoryMarshal.AsBytes(pixels.Row(i)));
                    if (label is not null)
                    {
                        uint key = batch[label.Name].Keys[i];
                        hash.AppendData(BitConverter.GetBytes(key));
                        labels![read + i] = key - 1;
                    }
                    if (weight is not null)
                    {
                        float w = batch[weight.Name].Values[i];
                        hash.AppendData(BitConverter.GetBytes(w));
                        weights![read + i] = w;
                    }
                }
                read += batch.Count;
            }
            if (read != rows)
                throw new InvalidOperationException($"The {dataName} returned {read} rows but said it has {rows}; training needs a deterministic data view.");
        }
        catch
        {
            images.Dispose();
            throw;
        }
        return new TrainingExamples(images, labels is null ? null : tensor(labels, ScalarType.Int64),
            weights is null ? null : tensor(weights, ScalarType.Float32), shape, label?.ClassCount ?? 0, label?.ClassNames,
            Convert.ToHexString(hash.GetHashAndReset()));
    }

    /// <summary>
    /// Reads classification training data: a planar image column (finite pixels; <paramref name="shape"/> null = from
    /// the column's dimensions, <paramref name="shapeOption"/> names the option for messages) and a key label with at
    /// least two classes.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type (e.g. a label that is not a key).</exception>
    /// <exception cref="InvalidOperationException">The label has fewer than two classes, or the data is empty or holds a bad value.</exception>
    public static TrainingExamples ReadClassification(IDataView input, string imageColumn, ImageShape? shape, string shapeOption, string labelColumn)
    {
        var reader = new DataViewBatchReader(input,
        [
            BatchInputColumn.Image(imageColumn, shape, BatchValueRules.Finite) with { ShapeOption = shapeOption },
            BatchInputColumn.Label(labelColumn, requireKey: true),
        ], nameof(input), "training data");
        var label = reader.Binding[labelColumn];
        if (label.ClassCount < 2)
            throw new InvalidOperationException(
                $"Label column '{labelColumn}' has a key type with {label.ClassCount} value; classification needs at least 2 classes.");
        return Read(reader);
    }

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        Images.Dispose();
        Labels?.Dispose();
        Weights?.Dispose();
    }
}
