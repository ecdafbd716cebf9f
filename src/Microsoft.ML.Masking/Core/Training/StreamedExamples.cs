using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.ML.Masking.Core.Batching;

namespace Microsoft.ML.Masking.Core.Training;

/// <summary>
/// Examples read in order, batch by batch, every time they are used, never held in memory: validation data of a
/// <see cref="TrainingLoop"/> task. Made by <see cref="Check"/>, which reads them once up front so that a bad value
/// fails before training starts (naming column and row) and the checkpoint fingerprint can carry their hash.
/// </summary>
internal sealed class StreamedExamples
{
    private StreamedExamples(DataViewBatchReader reader, long count, string contentHash)
    {
        Reader = reader;
        Count = count;
        ContentHash = contentHash;
    }

    /// <summary>The reader (its binding says what the columns hold).</summary>
    public DataViewBatchReader Reader { get; }

    /// <summary>Rows.</summary>
    public long Count { get; }

    /// <summary>SHA-256 of every value read.</summary>
    public string ContentHash { get; }

    /// <summary>Reads every row of <paramref name="reader"/> once, checking its values, and counts and hashes them.</summary>
    /// <exception cref="InvalidOperationException">The data has no rows, or a bad value.</exception>
    public static StreamedExamples Check(DataViewBatchReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long count = 0;
        foreach (var batch in reader.Batches(1024))
        {
            foreach (var column in batch.Binding.Columns)
            {
                var buffer = batch[column.Name];
                if (buffer.IsKey)
                    hash.AppendData(MemoryMarshal.AsBytes(buffer.Keys.AsSpan(0, batch.Count)));
                else
                    hash.AppendData(MemoryMarshal.AsBytes(buffer.Values.AsSpan(0, batch.Count * buffer.RowSize)));
            }
            count += batch.Count;
        }
        if (count == 0)
            throw new InvalidOperationException($"The {reader.DataName ?? "data"} has no rows.");
        return new StreamedExamples(reader, count, Convert.ToHexString(hash.GetHashAndReset()));
    }

    /// <summary>
    /// Checks a validation set against the training data (image layout, class count, class names) and reads it once
    /// (<see cref="Check"/>). <paramref name="optionName"/> is the option that holds it, for messages.
    /// </summary>
    /// <exception cref="InvalidOperationException">The set differs from the training data or holds a bad value.</exception>
    public static StreamedExamples ReadValidation(IDataView validationSet, TrainingExamples training, string imageColumn,
        string labelColumn, string optionName)
    {
        var reader = new DataViewBatchReader(validationSet,
        [
            BatchInputColumn.Image(imageColumn, training.Shape, BatchValueRules.Finite),
            BatchInputColumn.Label(labelColumn, training.ClassCount, requireKey: true),
        ], optionName, "validation set");
        var names = reader.Binding[labelColumn].ClassNames;
        if (training.ClassNames is not null && names is not null && !training.ClassNames.SequenceEqual(names))
            throw new InvalidOperationException(
                $"Label column '{labelColumn}' of the validation set names its classes differently from the training data's " +
                $"([{string.Join(", ", names)}] vs [{string.Join(", ", training.ClassNames)}]); build both keys with the same MapValueToKey.");
        return Check(reader);
    }

    /// <summary>The rows in order, <paramref name="batchSize"/> at a time (buffers reused between batches).</summary>
    public IEnumerable<DataViewBatch> Batches(int batchSize) => Reader.Batches(batchSize);
}
