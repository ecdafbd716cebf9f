using Microsoft.ML.Masking.Core.Batching;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Evaluation.Engine;

namespace Microsoft.ML.Masking.Evaluation;

/// <summary>
/// The columns an evaluator reads, declared for the library's one batch reader (<see cref="DataViewBatchReader"/>),
/// which checks the schema (ML.NET's wording, naming the column) and, row by row, the values (finite pixels and
/// attributions, labels present, 0/1 object masks), and hands them to the evaluation engines as
/// <see cref="EvaluationBatch"/>es.
/// </summary>
internal sealed class EvaluationDataReader
{
    private readonly DataViewBatchReader _reader;
    private readonly string _image, _label;
    private readonly string? _segments, _attributions, _objectMasks;

    /// <param name="data">The rows.</param>
    /// <param name="imageColumn">Planar float images of <paramref name="shape"/>.</param>
    /// <param name="labelColumn">Label with <paramref name="classCount"/> classes: a key, or a 0-based class number.</param>
    /// <param name="shape">Image layout.</param>
    /// <param name="classCount">Classes of the network.</param>
    /// <param name="segmentsColumn">Optional per-pixel segment ids.</param>
    /// <param name="attributionsColumn">Optional per-pixel relevance.</param>
    /// <param name="objectMasksColumn">Optional per-pixel 0/1 object masks.</param>
    public EvaluationDataReader(IDataView data, string imageColumn, string labelColumn, ImageShape shape, int classCount,
        string? segmentsColumn = null, string? attributionsColumn = null, string? objectMasksColumn = null)
    {
        (_image, _label, _segments, _attributions, _objectMasks) = (imageColumn, labelColumn, segmentsColumn, attributionsColumn, objectMasksColumn);
        var columns = new List<BatchInputColumn>
        {
            BatchInputColumn.Image(imageColumn, shape, BatchValueRules.Finite),
            BatchInputColumn.Label(labelColumn, classCount),
        };
        if (segmentsColumn is not null)
            columns.Add(BatchInputColumn.PerPixel(segmentsColumn, "segment ids"));
        if (attributionsColumn is not null)
            columns.Add(BatchInputColumn.PerPixel(attributionsColumn, "attributions", BatchValueRules.Finite));
        if (objectMasksColumn is not null)
            columns.Add(BatchInputColumn.PerPixel(objectMasksColumn, "object masks", BatchValueRules.Binary));
        _reader = new DataViewBatchReader(data, columns, "inputSchema");
    }

    /// <summary>Rows in the data (counted with a cursor that reads no column when the view does not know).</summary>
    public long CountRows() => _reader.CountRows();

    /// <summary>The rows in order, <paramref name="batchSize"/> at a time (the last batch may be shorter).</summary>
    public IEnumerable<EvaluationBatch> Batches(int batchSize)
    {
        foreach (var batch in _reader.Batches(batchSize))
        {
            int count = batch.Count;
            float[]? Values(string? column) => column is null ? null : batch[column].Values.AsSpan(0, count * batch[column].RowSize).ToArray();
            var keys = batch[_label].Keys;
            var labels = new int[count];
            for (int i = 0; i < count; i++)
                labels[i] = (int)keys[i] - 1;
            yield return new EvaluationBatch(batch.FirstRow, count, Values(_image)!, labels, Values(_segments), Values(_attributions), Values(_objectMasks));
        }
    }
}
