namespace Microsoft.ML.Masking.Data;

/// <summary>
/// Options of the synthetic shapes data set: RGB images in which the class is the shape of one object drawn
/// in a random colour, size, position and rotation on a random textured background, each with the object's
/// exact pixel mask. Row <c>i</c> depends only on (<see cref="Seed"/>, <c>i</c>) and the options.
/// </summary>
public sealed class ShapesOptions
{
    /// <summary>Image height and width in pixels (at least 16). Default: 32.</summary>
    public int ImageSize { get; set; } = 32;

    /// <summary>Number of images. Default: 10,000.</summary>
    public int Count { get; set; } = 10_000;

    /// <summary>
    /// Seed of the data set. Different seeds give independent data sets (use one for training and another
    /// for testing). Default: 0.
    /// </summary>
    public long Seed { get; set; }

    /// <summary>The classes, in label order; each image's shape is drawn uniformly from them. Default: every <see cref="ShapeKind"/>.</summary>
    public IReadOnlyList<ShapeKind> Shapes { get; set; } = Enum.GetValues<ShapeKind>();

    /// <summary>Smallest object radius as a fraction of half the image size. Default: 0.4.</summary>
    public double MinRadiusFraction { get; set; } = 0.4;

    /// <summary>Largest object radius as a fraction of half the image size (at most 1: objects never leave the image). Default: 0.9.</summary>
    public double MaxRadiusFraction { get; set; } = 0.9;

    /// <summary>Name of the image column: 3 × ImageSize × ImageSize floats in [0, 1], planar R, G, B (like ExtractPixels). Default: "Image".</summary>
    public string ImageColumnName { get; set; } = "Image";

    /// <summary>Name of the label column: a key whose values are the shape names. Default: "Label".</summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>Name of the object-mask column: ImageSize × ImageSize floats, 1 on the object's pixels and 0 elsewhere. Default: "ObjectMask".</summary>
    public string ObjectMaskColumnName { get; set; } = "ObjectMask";

    internal void Validate()
    {
        if (ImageSize < 16)
            throw new ArgumentOutOfRangeException(nameof(ImageSize), ImageSize, "Shapes images are at least 16 pixels wide.");
        if (Count < 0)
            throw new ArgumentOutOfRangeException(nameof(Count), Count, "must not be negative");
        if (Shapes is null || Shapes.Count == 0)
            throw new ArgumentException("ShapesOptions.Shapes needs at least one shape.", nameof(Shapes));
        if (Shapes.Distinct().Count() != Shapes.Count || Shapes.Any(s => !Enum.IsDefined(s)))
            throw new ArgumentException("ShapesOptions.Shapes must list known shapes, each once.", nameof(Shapes));
        if (!(MinRadiusFraction > 0 && MinRadiusFraction <= MaxRadiusFraction && MaxRadiusFraction <= 1))
            throw new ArgumentException(
                $"ShapesOptions needs 0 < MinRadiusFraction <= MaxRadiusFraction <= 1; got {MinRadiusFraction} and {MaxRadiusFraction}.");
    }
}
