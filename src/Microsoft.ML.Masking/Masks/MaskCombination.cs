namespace Microsoft.ML.Masking.Masks;

/// <summary>How <see cref="MaskCatalog.CombineMasks(TransformsCatalog, CombineMasksOptions)"/> merges several keep-masks.</summary>
public enum MaskCombination
{
    /// <summary>
    /// A pixel is removed when any input removes it: the union of the removed regions (the product of the masks).
    /// Use it to remove several segments or boxes given as separate masks.
    /// </summary>
    UnionOfRemoved,

    /// <summary>A pixel is kept when any input keeps it: the union of the kept regions (the maximum of the masks).</summary>
    UnionOfKept,
}
