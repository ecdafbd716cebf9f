namespace Microsoft.ML.Masking.Core.Randomness;

/// <summary>
/// The first coordinate of every <see cref="SeedMixer.ForRow"/> call: one value per kind of draw, so features that
/// share a user seed and a row still draw unrelated numbers. Add a member for each new kind of draw; never
/// renumber one (saved models and reported results depend on the values).
/// </summary>
internal enum SeedStream : long
{
    /// <summary>The order in which an evaluation removes an image's segments (row, repeat).</summary>
    RemovalOrder = 1,

    /// <summary>The noise baseline's values (first row of the batch, repeat, fraction).</summary>
    Noise = 2,

    /// <summary>The patches a patch-grid mask transform removes (row).</summary>
    PatchMask = 3,
}
