namespace Microsoft.ML.Masking.Data;

/// <summary>
/// The shapes in their own frame: centred at the origin, upright, and inside the unit disc, so a shape
/// of radius r centred at least r from every edge never leaves the image.
/// </summary>
internal static class ShapeGeometry
{
    private const double SquareHalfSide = 0.70;        // corners at radius 0.99
    private const double CrossHalfWidth = 0.30, CrossHalfLength = 0.95;
    private const double RingInnerRadius = 0.55;
    private const double StarInnerRadius = 0.42;
    private const double CrescentCutOffset = 0.45, CrescentCutRadius = 0.80;

    private static readonly (double X, double Y)[] Triangle = RegularPolygon(3, 1.0, 0.0);
    private static readonly (double X, double Y)[] Hexagon = RegularPolygon(6, 1.0, 0.0);
    private static readonly (double X, double Y)[] Star = StarPolygon(5, 1.0, StarInnerRadius);

    /// <summary>True when the point (u, v) of the shape's unit frame belongs to <paramref name="kind"/>.</summary>
    public static bool Contains(ShapeKind kind, double u, double v) => kind switch
    {
        ShapeKind.Circle => u * u + v * v <= 1.0,
        ShapeKind.Square => Math.Abs(u) <= SquareHalfSide && Math.Abs(v) <= SquareHalfSide,
        ShapeKind.Triangle => InsidePolygon(Triangle, u, v),
        ShapeKind.Hexagon => InsidePolygon(Hexagon, u, v),
        ShapeKind.Star => InsidePolygon(Star, u, v),
        ShapeKind.Cross => (Math.Abs(u) <= CrossHalfWidth && Math.Abs(v) <= CrossHalfLength)
                         || (Math.Abs(v) <= CrossHalfWidth && Math.Abs(u) <= CrossHalfLength),
        ShapeKind.Ring => u * u + v * v <= 1.0 && u * u + v * v >= RingInnerRadius * RingInnerRadius,
        ShapeKind.Crescent => u * u + v * v <= 1.0
                         && (u - CrescentCutOffset) * (u - CrescentCutOffset) + v * v > CrescentCutRadius * CrescentCutRadius,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown shape"),
    };

    /// <summary>The shape's area in its unit frame, for checking rasterised masks.</summary>
    public static double Area(ShapeKind kind) => kind switch
    {
        ShapeKind.Circle => Math.PI,
        ShapeKind.Square => 4 * SquareHalfSide * SquareHalfSide,
        ShapeKind.Triangle => PolygonArea(Triangle),
        ShapeKind.Hexagon => PolygonArea(Hexagon),
        ShapeKind.Star => PolygonArea(Star),
        ShapeKind.Cross => 2 * (2 * CrossHalfWidth) * (2 * CrossHalfLength) - 4 * CrossHalfWidth * CrossHalfWidth,
        ShapeKind.Ring => Math.PI * (1 - RingInnerRadius * RingInnerRadius),
        ShapeKind.Crescent => Math.PI - LensArea(1.0, CrescentCutRadius, CrescentCutOffset),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown shape"),
    };

    private static (double, double)[] RegularPolygon(int sides, double radius, double phase) =>
        Enumerable.Range(0, sides)
            .Select(i => phase + Math.PI / 2 + 2 * Math.PI * i / sides)
            .Select(a => (radius * Math.Cos(a), radius * Math.Sin(a)))
            .ToArray();

    private static (double, double)[] StarPolygon(int points, double outer, double inner) =>
        Enumerable.Range(0, 2 * points)
            .Select(i => (Angle: Math.PI / 2 + Math.PI * i / points, Radius: i % 2 == 0 ? outer : inner))
            .Select(p => (p.Radius * Math.Cos(p.Angle), p.Radius * Math.Sin(p.Angle)))
            .ToArray();

    // Crossing-number test; works for the star's non-convex outline.
    private static bool InsidePolygon((double X, double Y)[] polygon, double u, double v)
    {
        bool inside = false;
        for (int i = 0, j = polygon.Length - 1; i < polygon.Length; j = i++)
        {
            var (xi, yi) = polygon[i];
            var (xj, yj) = polygon[j];
            if ((yi > v) != (yj > v) && u < (xj - xi) * (v - yi) / (yj - yi) + xi)
                inside = !inside;
        }
        return inside;
    }

    private static double PolygonArea((double X, double Y)[] polygon)
    {
        double twiceArea = 0;
        for (int i = 0, j = polygon.Length - 1; i < polygon.Length; j = i++)
            twiceArea += polygon[j].X * polygon[i].Y - polygon[i].X * polygon[j].Y;
        return Math.Abs(twiceArea) / 2;
    }

    // Area of the intersection of two discs (radii r1, r2) whose centres are d apart.
    private static double LensArea(double r1, double r2, double d)
    {
        double a1 = Math.Acos((d * d + r1 * r1 - r2 * r2) / (2 * d * r1));
        double a2 = Math.Acos((d * d + r2 * r2 - r1 * r1) / (2 * d * r2));
        return r1 * r1 * (a1 - Math.Sin(2 * a1) / 2) + r2 * r2 * (a2 - Math.Sin(2 * a2) / 2);
    }
}
