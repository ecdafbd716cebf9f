using Microsoft.ML.Masking.Data;
using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Evaluation.Engine;

namespace Microsoft.ML.Masking.Evaluation;

/// <summary>
/// Reads the columns an evaluator needs from an <see cref="IDataView"/> into <see cref="EvaluationBatch"/>es, after
/// checking the schema (ML.NET's wording, naming the column) and, row by row, the values (finite pixels, labels
/// present, 0/1 object masks).
/// </summary>
internal sealed class EvaluationDataReader
{
    private readonly IDataView _data;
    private readonly ImageShape _shape;
    private readonly int _classCount;
    private readonly DataViewSchema.Column _image, _label;
    private readonly DataViewSchema.Column? _segments, _attributions, _objectMasks;

    /// <param name="data">The rows.</param>
    /// <param name="imageColumn">Planar float images of <paramref name="shape"/>.</param>
    /// <param name="labelColumn">Key-typed label with <paramref name="classCount"/> values.</param>
    /// <param name="shape">Image layout.</param>
    /// <param name="classCount">Classes of the network.</param>
    /// <param name="segmentsColumn">Optional per-pixel segment ids.</param>
    /// <param name="attributionsColumn">Optional per-pixel relevance.</param>
    /// <param name="objectMasksColumn">Optional per-pixel 0/1 object masks.</param>
    public EvaluationDataReader(IDataView data, string imageColumn, string labelColumn, ImageShape shape, int classCount,
        string? segmentsColumn = null, string? attributionsColumn = null, string? objectMasksColumn = null)
    {
        _data = data;
        _shape = shape;
        _classCount = classCount;
        var schema = data.Schema;
        _image = SchemaChecks.CheckFloatVector(schema, imageColumn, shape.Size, nameof(data));
        _label = schema.GetColumnOrNull(labelColumn) ?? throw SchemaChecks.NotFound(nameof(data), labelColumn);
        if (_label.Type is not KeyDataViewType { RawType: var raw, Count: var keys } || raw != typeof(uint) || keys != (ulong)classCount)
            throw SchemaChecks.Mismatch(nameof(data), labelColumn, $"Key<UInt32> with {classCount} values (the network's classes)", $"{_label.Type}");
        DataViewSchema.Column? PerPixel(string? name) =>
            name is null ? null : SchemaChecks.CheckFloatVector(schema, name, shape.Pixels, nameof(data));
        _segments = PerPixel(segmentsColumn);
        _attributions = PerPixel(attributionsColumn);
        _objectMasks = PerPixel(objectMasksColumn);
    }

    /// <summary>Rows in the data (counted with a cursor that reads no column when the view does not know).</summary>
    public long CountRows()
    {
        if (_data.GetRowCount() is long known)
            return known;
        long count = 0;
        using var cursor = _data.GetRowCursor([]);
        while (cursor.MoveNext())
            count++;
        return count;
    }

    /// <summary>The rows in order, <paramref name="batchSize"/> at a time (the last batch may be shorter).</summary>
    public IEnumerable<EvaluationBatch> Batches(int batchSize)
    {
        var g = _shape;
        var active = new[] { _image, _label, _segments, _attributions, _objectMasks }.OfType<DataViewSchema.Column>().ToArray();
        using var cursor = _data.GetRowCursor(active);
        var image = cursor.GetGetter<VBuffer<float>>(_image);
        var label = cursor.GetGetter<uint>(_label);
        var segments = _segments is { } s ? cursor.GetGetter<VBuffer<float>>(s) : null;
        var attributions = _attributions is { } a ? cursor.GetGetter<VBuffer<float>>(a) : null;
        var objectMasks = _objectMasks is { } o ? cursor.GetGetter<VBuffer<float>>(o) : null;
        VBuffer<float> buffer = default;
        long row = 0;
        while (true)
        {
            long first = row;
            var pixels = new float[batchSize * g.Size];
            var labels = new int[batchSize];
            var segmentIds = segments is null ? null : new float[batchSize * g.Pixels];
            var relevance = attributions is null ? null : new float[batchSize * g.Pixels];
            var masks = objectMasks is null ? null : new float[batchSize * g.Pixels];
            int count = 0;
            while (count < batchSize && cursor.MoveNext())
            {
                image(ref buffer);
                Copy(buffer, _image.Name, row, pixels.AsSpan(count * g.Size, g.Size), requireFinite: true);
                uint key = 0;
                label(ref key);
                if (key == 0 || key > _classCount)
                    throw new InvalidOperationException($"Column '{_label.Name}', row {row}: the label is missing; evaluate only labelled rows (filter them first).");
                labels[count] = (int)key - 1;
                if (segments is not null) { segments(ref buffer); Copy(buffer, _segments!.Value.Name, row, segmentIds.AsSpan(count * g.Pixels, g.Pixels), requireFinite: false); }
                if (attributions is not null) { attributions(ref buffer); Copy(buffer, _attributions!.Value.Name, row, relevance.AsSpan(count * g.Pixels, g.Pixels), requireFinite: true); }
                if (objectMasks is not null)
                {
                    objectMasks(ref buffer);
                    var mask = masks.AsSpan(count * g.Pixels, g.Pixels);
                    Copy(buffer, _objectMasks!.Value.Name, row, mask, requireFinite: true);
                    foreach (float v in mask)
                        if (v != 0 && v != 1)
                            throw new InvalidOperationException($"Column '{_objectMasks.Value.Name}', row {row}: object masks must hold only 0 and 1; found {v}.");
                }
                count++;
                row++;
            }
            if (count == 0)
                yield break;
            yield return count == batchSize
                ? new EvaluationBatch(first, count, pixels, labels, segmentIds, relevance, masks)
                : new EvaluationBatch(first, count, pixels[..(count * g.Size)], labels[..count],
                    segmentIds?[..(count * g.Pixels)], relevance?[..(count * g.Pixels)], masks?[..(count * g.Pixels)]);
            if (count < batchSize)
                yield break;
        }
    }

    private static void Copy(VBuffer<float> source, string column, long row, Span<float> target, bool requireFinite)
    {
        if (source.Length != target.Length)
            throw new InvalidOperationException($"Column '{column}', row {row}: a vector of length {source.Length}; its type promises {target.Length}.");
        source.CopyTo(target);
        if (requireFinite)
            foreach (float v in target)
                if (!float.IsFinite(v))
                    throw new InvalidOperationException($"Column '{column}', row {row}: holds NaN or infinite values.");
    }
}
