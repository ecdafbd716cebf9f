using System.Globalization;
using System.Text;

namespace Microsoft.ML.Masking.Core.Reporting;

/// <summary>Comma-separated tables with invariant numbers (NaN written as "NaN"), quoted text where needed.</summary>
internal static class CsvText
{
    public static string Build(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<object>> rows)
    {
        var text = new StringBuilder();
        text.AppendJoin(',', header.Select(Cell)).Append('\n');
        foreach (var row in rows)
            text.AppendJoin(',', row.Select(Cell)).Append('\n');
        return text.ToString();
    }

    private static string Cell(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => Quote(value.ToString() ?? ""),
    };

    private static string Quote(string text) =>
        text.IndexOfAny([',', '"', '\n', '\r']) < 0 ? text : "\"" + text.Replace("\"", "\"\"") + "\"";
}
