using Microsoft.ML.Masking.Core.Reporting;
using Microsoft.ML.Masking.LayerMasking;

namespace Microsoft.ML.Masking.Evaluation;

/// <summary>Mask-shape bias of each masking method (see <see cref="ShapeBiasMetrics"/>).</summary>
public sealed class ShapeBiasResult
{
    internal ShapeBiasResult(IReadOnlyList<ShapeBiasMetrics> methods, double cleanAccuracy, long rowCount, long evaluatedCount,
        long rowsWithoutObject, double meanObjectFraction)
    {
        Methods = methods;
        CleanAccuracy = cleanAccuracy;
        RowCount = rowCount;
        EvaluatedCount = evaluatedCount;
        RowsWithoutObject = rowsWithoutObject;
        MeanObjectFraction = meanObjectFraction;
    }

    /// <summary>One entry per masking method, in the order asked for.</summary>
    public IReadOnlyList<ShapeBiasMetrics> Methods { get; }

    /// <summary>Top-1 accuracy on the whole images (rows without an object included).</summary>
    public double CleanAccuracy { get; }

    /// <summary>Images read.</summary>
    public long RowCount { get; }

    /// <summary>Images the metrics are computed on: classified correctly when whole, with a non-empty object mask.</summary>
    public long EvaluatedCount { get; }

    /// <summary>Images skipped because their object mask marks no pixel.</summary>
    public long RowsWithoutObject { get; }

    /// <summary>Mean fraction of the image the object covers, over the evaluated images.</summary>
    public double MeanObjectFraction { get; }

    /// <summary>The metrics of <paramref name="method"/>.</summary>
    /// <exception cref="KeyNotFoundException">The method was not evaluated.</exception>
    public ShapeBiasMetrics Method(MaskingMethod method) =>
        EvaluatedMethods.Find(Methods, method, m => m.Method);

    /// <summary>CSV, one row per method: method, object_removed, object_removed_se, broken_shape, broken_shape_se.</summary>
    public string ToCsv() => CsvText.Build(
        ["method", "object_removed", "object_removed_se", "broken_shape", "broken_shape_se"],
        Methods.Select(m => (IReadOnlyList<object>)
            [m.Method.ToString(), m.ObjectRemovedAccuracy, m.ObjectRemovedStandardError, m.BrokenShapeAccuracy, m.BrokenShapeStandardError]));

    /// <summary>Writes <see cref="ToCsv"/> to <paramref name="path"/>.</summary>
    public void SaveCsv(string path) => File.WriteAllText(path, ToCsv());
}
