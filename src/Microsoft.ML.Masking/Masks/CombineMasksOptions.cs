namespace Microsoft.ML.Masking.Masks;

/// <summary>
/// One keep-mask from several keep-mask columns of the same size (e.g. a box mask and a segment mask, or one
/// object mask per segment). Inputs must hold only 0 and 1. The mask is height × width floats, row-major, 1 = keep
/// (see <see cref="KeepMaskOptions"/>).
/// </summary>
public sealed class CombineMasksOptions : KeepMaskOptions
{
    /// <summary>The keep-mask columns to combine, at least two, each height × width floats. Default: empty.</summary>
    public IReadOnlyList<string> InputColumnNames { get; set; } = [];

    /// <summary>How they are merged. Default: <see cref="MaskCombination.UnionOfRemoved"/>.</summary>
    public MaskCombination Combination { get; set; } = MaskCombination.UnionOfRemoved;
}
