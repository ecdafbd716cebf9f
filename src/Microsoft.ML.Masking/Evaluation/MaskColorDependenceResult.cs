using Microsoft.ML.Masking.Core.Reporting;
using Microsoft.ML.Masking.LayerMasking;

namespace Microsoft.ML.Masking.Evaluation;

/// <summary>
/// Mask-colour dependence. <see cref="PaintedInput"/> is the network reading images whose removed region was
/// painted (the colour baselines); each entry of <see cref="Methods"/> is a masking method applied to those same
/// painted images, so it shows whether the method lets the paint through (layer masking cannot: its spread is zero).
/// </summary>
public sealed class MaskColorDependenceResult
{
    /// <summary>The <see cref="MaskColorSpread.Name"/> of <see cref="PaintedInput"/>.</summary>
    public const string PaintedInputName = "painted input";

    internal MaskColorDependenceResult(IReadOnlyList<string> fills, double fraction, MaskColorSpread paintedInput,
        IReadOnlyList<MaskColorSpread> methods, double cleanAccuracy, long rowCount)
    {
        Fills = fills;
        Fraction = fraction;
        PaintedInput = paintedInput;
        Methods = methods;
        CleanAccuracy = cleanAccuracy;
        RowCount = rowCount;
    }

    /// <summary>The fill names, in the order evaluated.</summary>
    public IReadOnlyList<string> Fills { get; }

    /// <summary>Fraction of segments removed.</summary>
    public double Fraction { get; }

    /// <summary>The network on the painted images: how much the paint's colour moves its predictions.</summary>
    public MaskColorSpread PaintedInput { get; }

    /// <summary>Each masking method on the painted images, in the order asked for.</summary>
    public IReadOnlyList<MaskColorSpread> Methods { get; }

    /// <summary>The spread of <paramref name="method"/>.</summary>
    /// <exception cref="KeyNotFoundException">The method was not evaluated.</exception>
    public MaskColorSpread Method(MaskingMethod method) =>
        EvaluatedMethods.Find(Methods, method, m => m.Method);

    /// <summary>Top-1 accuracy on the whole images.</summary>
    public double CleanAccuracy { get; }

    /// <summary>Images evaluated.</summary>
    public long RowCount { get; }

    /// <summary>CSV, one row per scored variant: name, agreement, agreement_se, mean_distinct, probability_spread, probability_spread_se, then accuracy_&lt;fill&gt; per fill.</summary>
    public string ToCsv() => CsvText.Build(
        ["name", "agreement", "agreement_se", "mean_distinct", "probability_spread", "probability_spread_se", .. Fills.Select(f => "accuracy_" + f)],
        new[] { PaintedInput }.Concat(Methods).Select(s => (IReadOnlyList<object>)
            [s.Name, s.Agreement, s.AgreementStandardError, s.MeanDistinctPredictions, s.ProbabilitySpread, s.ProbabilitySpreadStandardError,
             .. Fills.Select(f => (object)s.AccuracyByFill[f])]));

    /// <summary>Writes <see cref="ToCsv"/> to <paramref name="path"/>.</summary>
    public void SaveCsv(string path) => File.WriteAllText(path, ToCsv());
}
