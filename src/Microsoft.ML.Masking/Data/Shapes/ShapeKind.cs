namespace Microsoft.ML.Masking.Data;

/// <summary>
/// The object shapes of the synthetic shapes data set; the shape is the class. Every shape is told apart
/// from the others under any rotation and scale (no square/diamond pairs).
/// </summary>
public enum ShapeKind
{
    /// <summary>A filled disc.</summary>
    Circle,
    /// <summary>A filled square.</summary>
    Square,
    /// <summary>A filled equilateral triangle.</summary>
    Triangle,
    /// <summary>A filled regular hexagon.</summary>
    Hexagon,
    /// <summary>A filled five-pointed star.</summary>
    Star,
    /// <summary>A plus sign: two crossing bars.</summary>
    Cross,
    /// <summary>An annulus; the background shows through the hole, which is not part of the object.</summary>
    Ring,
    /// <summary>A disc with an off-centre disc cut away.</summary>
    Crescent,
}
