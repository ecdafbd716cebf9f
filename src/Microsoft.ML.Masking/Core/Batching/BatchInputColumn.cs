using Microsoft.ML.Masking.Data;

namespace Microsoft.ML.Masking.Core.Batching;

/// <summary>
/// A column the batch reader reads: its name, what it holds (<see cref="Kind"/>) and the checks of its values.
/// Transformers, trainers and evaluators all declare their inputs with these; <see cref="BatchInputBinding"/> checks
/// them against a schema and <see cref="BatchRowReader"/> reads them row by row.
/// </summary>
/// <param name="Name">Column name in the input schema.</param>
/// <param name="Size">
/// Values per row: the vector size for <see cref="BatchColumnKind.Vector"/>; for the other kinds 0, meaning found
/// when bound (an image's from <see cref="Shape"/> or the column's dimensions, a per-pixel column's from the image).
/// </param>
internal sealed record BatchInputColumn(string Name, int Size)
{
    /// <summary>What the column holds. Default: <see cref="BatchColumnKind.Vector"/>.</summary>
    public BatchColumnKind Kind { get; init; } = BatchColumnKind.Vector;

    /// <summary>
    /// For <see cref="BatchColumnKind.Image"/>: the layout the caller expects, or null to take it from the column's
    /// dimensions (ExtractPixels sets [C, H, W]) or, for a plain vector, infer a square one- or three-channel image.
    /// For <see cref="BatchColumnKind.PerPixel"/> without an image column in the same read: the image layout whose
    /// pixels the column covers.
    /// </summary>
    public ImageShape? Shape { get; init; }

    /// <summary>For labels: the number of classes, or null to take it from the key type.</summary>
    public int? ClassCount { get; init; }

    /// <summary>For labels: whether only a key type is accepted (a 0-based number otherwise also is).</summary>
    public bool RequireKey { get; init; }

    /// <summary>Checks of the values, applied row by row as they are read.</summary>
    public BatchValueRules Rules { get; init; }

    /// <summary>How a row-level error names the values ("pixels", "object masks"). Default: "values".</summary>
    public string ValueName { get; init; } = "values";

    /// <summary>
    /// For images without a known layout: the option a user sets to give it, named in the error
    /// (e.g. "ResNetTrainer.Options.ImageShape"). Default: "ImageShape".
    /// </summary>
    public string ShapeOption { get; init; } = "ImageShape";

    /// <summary>A float vector of exactly <paramref name="size"/> values, unchecked.</summary>
    public static BatchInputColumn Vector(string name, int size) => new(name, size);

    /// <summary>Planar images of <paramref name="shape"/>, or of the layout the column's dimensions give when null.</summary>
    public static BatchInputColumn Image(string name, ImageShape? shape = null, BatchValueRules rules = BatchValueRules.None) =>
        new(name, shape?.Size ?? 0) { Kind = BatchColumnKind.Image, Shape = shape, Rules = rules, ValueName = "pixels" };

    /// <summary>
    /// One value per pixel of the images read alongside (or of <paramref name="shape"/> when the read has no image
    /// column).
    /// </summary>
    public static BatchInputColumn PerPixel(string name, string valueName, BatchValueRules rules = BatchValueRules.None, ImageShape? shape = null) =>
        new(name, shape?.Pixels ?? 0) { Kind = BatchColumnKind.PerPixel, Shape = shape, Rules = rules, ValueName = valueName };

    /// <summary>A class label with <paramref name="classCount"/> classes (null: the key type's count).</summary>
    public static BatchInputColumn Label(string name, int? classCount = null, bool requireKey = false) =>
        new(name, 1) { Kind = BatchColumnKind.Label, ClassCount = classCount, RequireKey = requireKey, ValueName = "labels" };

    /// <summary>A non-negative, finite example weight.</summary>
    public static BatchInputColumn Weight(string name) =>
        new(name, 1) { Kind = BatchColumnKind.Weight, Rules = BatchValueRules.Finite, ValueName = "weights" };

    /// <summary>Checks the description itself (not a schema).</summary>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Name);
        if (Kind == BatchColumnKind.Vector && Size < 1)
            throw new ArgumentOutOfRangeException(nameof(Size), Size, $"Input column '{Name}' needs a positive vector size.");
        if (ClassCount is < 1)
            throw new ArgumentOutOfRangeException(nameof(ClassCount), ClassCount, $"Label column '{Name}' needs at least one class.");
    }
}
