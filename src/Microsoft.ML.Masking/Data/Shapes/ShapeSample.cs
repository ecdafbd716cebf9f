namespace Microsoft.ML.Masking.Data;

/// <summary>One image of the shapes data set with its ground truth.</summary>
public sealed class ShapeSample
{
    internal ShapeSample(ShapeKind shape, int label, float[] image, float[] objectMask, float[] background,
        (double X, double Y) center, double radius, double rotation, (float R, float G, float B) color)
    {
        Shape = shape;
        Label = label;
        Image = image;
        ObjectMask = objectMask;
        Background = background;
        Center = center;
        Radius = radius;
        Rotation = rotation;
        Color = color;
    }

    /// <summary>The object's shape (the class).</summary>
    public ShapeKind Shape { get; }

    /// <summary>The zero-based class index: the position of <see cref="Shape"/> in <see cref="ShapesOptions.Shapes"/>.</summary>
    public int Label { get; }

    /// <summary>The image: 3 × size × size floats in [0, 1], planar R, G, B, row-major.</summary>
    public float[] Image { get; }

    /// <summary>size × size floats, row-major: 1 on exactly the pixels drawn with the object's colour, 0 elsewhere.</summary>
    public float[] ObjectMask { get; }

    /// <summary>The object's centre in pixels (x to the right, y down; pixel (i, j) covers [j, j+1) × [i, i+1)).</summary>
    public (double X, double Y) Center { get; }

    /// <summary>The radius of the circle the object is inscribed in, in pixels.</summary>
    public double Radius { get; }

    /// <summary>The object's rotation in radians.</summary>
    public double Rotation { get; }

    /// <summary>The object's colour (R, G, B in [0, 1]).</summary>
    public (float R, float G, float B) Color { get; }

    /// <summary>The background alone (same layout as <see cref="Image"/>); the image equals it off the object.</summary>
    internal float[] Background { get; }
}
