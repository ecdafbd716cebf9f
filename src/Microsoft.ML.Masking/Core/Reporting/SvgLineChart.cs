using System.Globalization;
using System.Net;
using System.Text;

namespace Microsoft.ML.Masking.Core.Reporting;

/// <summary>
/// A self-contained SVG line chart (axes, grid, one coloured line with markers and ±error whiskers per series, and a
/// legend), written by hand so the library needs no plotting package.
/// </summary>
internal sealed class SvgLineChart
{
    // Tableau 10: distinct in colour and in lightness, readable by most colour-blind viewers.
    private static readonly string[] Palette =
        ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    private const double Width = 760, Height = 480, Left = 70, Right = 200, Top = 48, Bottom = 62;

    /// <summary>A line: its name and points (x, y, standard error or NaN for none).</summary>
    public sealed record Series(string Name, IReadOnlyList<(double X, double Y, double Error)> Points, bool Emphasised = false);

    public required string Title { get; init; }
    public required string XLabel { get; init; }
    public required string YLabel { get; init; }
    public required double YMax { get; init; }
    public double XMin { get; init; }
    public double XMax { get; init; } = 1;
    public double YMin { get; init; }
    public required IReadOnlyList<Series> Lines { get; init; }

    /// <summary>An optional dashed horizontal line (e.g. chance accuracy) and its legend label.</summary>
    public (double Y, string Label)? Reference { get; init; }

    public string ToSvg()
    {
        double plotW = Width - Left - Right, plotH = Height - Top - Bottom;
        double Px(double x) => Left + (x - XMin) / (XMax - XMin) * plotW;
        double Py(double y) => Top + (1 - (Math.Clamp(y, YMin, YMax) - YMin) / (YMax - YMin)) * plotH;

        var svg = new StringBuilder();
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{N(Width)}\" height=\"{N(Height)}\" viewBox=\"0 0 {N(Width)} {N(Height)}\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"13\">\n");
        svg.Append($"<rect width=\"{N(Width)}\" height=\"{N(Height)}\" fill=\"white\"/>\n");
        svg.Append($"<text x=\"{N(Left + plotW / 2)}\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">{E(Title)}</text>\n");

        foreach (double x in Ticks(XMin, XMax))
        {
            svg.Append($"<line x1=\"{N(Px(x))}\" y1=\"{N(Top)}\" x2=\"{N(Px(x))}\" y2=\"{N(Top + plotH)}\" stroke=\"#e6e6e6\"/>\n");
            svg.Append($"<text x=\"{N(Px(x))}\" y=\"{N(Top + plotH + 18)}\" text-anchor=\"middle\">{Label(x)}</text>\n");
        }
        foreach (double y in Ticks(YMin, YMax))
        {
            svg.Append($"<line x1=\"{N(Left)}\" y1=\"{N(Py(y))}\" x2=\"{N(Left + plotW)}\" y2=\"{N(Py(y))}\" stroke=\"#e6e6e6\"/>\n");
            svg.Append($"<text x=\"{N(Left - 8)}\" y=\"{N(Py(y) + 4)}\" text-anchor=\"end\">{Label(y)}</text>\n");
        }
        svg.Append($"<rect x=\"{N(Left)}\" y=\"{N(Top)}\" width=\"{N(plotW)}\" height=\"{N(plotH)}\" fill=\"none\" stroke=\"#333\"/>\n");
        svg.Append($"<text x=\"{N(Left + plotW / 2)}\" y=\"{N(Height - 18)}\" text-anchor=\"middle\">{E(XLabel)}</text>\n");
        svg.Append($"<text transform=\"translate(20 {N(Top + plotH / 2)}) rotate(-90)\" text-anchor=\"middle\">{E(YLabel)}</text>\n");

        if (Reference is { } reference)
        {
            double ry = Py(reference.Y), ly = Top + 10 + Lines.Count * 22;
            svg.Append($"<line x1=\"{N(Left)}\" y1=\"{N(ry)}\" x2=\"{N(Left + plotW)}\" y2=\"{N(ry)}\" stroke=\"#555\" stroke-dasharray=\"6 4\"/>\n");
            svg.Append($"<line x1=\"{N(Width - Right + 16)}\" y1=\"{N(ly)}\" x2=\"{N(Width - Right + 44)}\" y2=\"{N(ly)}\" stroke=\"#555\" stroke-dasharray=\"6 4\"/>\n");
            svg.Append($"<text x=\"{N(Width - Right + 52)}\" y=\"{N(ly + 4)}\">{E(reference.Label)}</text>\n");
        }
        for (int s = 0; s < Lines.Count; s++)
        {
            var line = Lines[s];
            string colour = Palette[s % Palette.Length];
            string width = line.Emphasised ? "3.5" : "2";
            var points = line.Points.Where(p => double.IsFinite(p.Y)).OrderBy(p => p.X).ToArray();
            svg.Append($"<g><title>{E(line.Name)}</title>\n");
            foreach (var p in points.Where(p => double.IsFinite(p.Error) && p.Error > 0))
                svg.Append($"<line x1=\"{N(Px(p.X))}\" y1=\"{N(Py(p.Y - p.Error))}\" x2=\"{N(Px(p.X))}\" y2=\"{N(Py(p.Y + p.Error))}\" stroke=\"{colour}\" stroke-width=\"1.5\"/>\n");
            if (points.Length > 0)
                svg.Append($"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"{width}\" stroke-linejoin=\"round\" points=\"{string.Join(' ', points.Select(p => $"{N(Px(p.X))},{N(Py(p.Y))}"))}\"/>\n");
            foreach (var p in points)
                svg.Append($"<circle cx=\"{N(Px(p.X))}\" cy=\"{N(Py(p.Y))}\" r=\"3\" fill=\"{colour}\"/>\n");
            double ly = Top + 10 + s * 22;
            svg.Append($"<line x1=\"{N(Width - Right + 16)}\" y1=\"{N(ly)}\" x2=\"{N(Width - Right + 44)}\" y2=\"{N(ly)}\" stroke=\"{colour}\" stroke-width=\"{width}\"/>\n");
            svg.Append($"<text x=\"{N(Width - Right + 52)}\" y=\"{N(ly + 4)}\">{E(line.Name)}</text>\n</g>\n");
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    // About five round steps (1, 2 or 5 × 10^k) across the range.
    private static IEnumerable<double> Ticks(double min, double max)
    {
        double raw = (max - min) / 5, magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2.0, 5.0, 10.0 }.Select(f => f * magnitude).First(s => s >= raw * 0.99);
        for (double t = Math.Ceiling(min / step) * step; t <= max + step * 1e-9; t += step)
            yield return Math.Round(t / step) * step;
    }

    private static string Label(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string N(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
