namespace Microsoft.ML.Masking.Core.Batching;

/// <summary>What a column read by the batch reader holds, which decides how its type is checked and its size found.</summary>
internal enum BatchColumnKind
{
    /// <summary>A float vector of a size the caller states.</summary>
    Vector,

    /// <summary>Planar float images, channels × height × width; the shape comes from the caller or the column's dimensions.</summary>
    Image,

    /// <summary>One float per pixel of the images (height × width, row-major): masks, segment ids, attributions.</summary>
    PerPixel,

    /// <summary>A class label: a key (1-based, 0 = missing) or, where allowed, a 0-based whole number.</summary>
    Label,

    /// <summary>A non-negative float example weight.</summary>
    Weight,
}
