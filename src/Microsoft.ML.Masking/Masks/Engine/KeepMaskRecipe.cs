using Microsoft.ML.Masking.Core.Randomness;
using Microsoft.ML.Masking.Core.Segmentation;

namespace Microsoft.ML.Masking.Masks.Engine;

/// <summary>
/// Everything a mask transform needs to paint a row's keep-mask, checked against the input schema when fitted and
/// saved as the transformer's header. Painting is plain C#: a mask costs a pass over its pixels.
/// </summary>
/// <param name="Kind">Which mask.</param>
/// <param name="OutputColumnName">The keep-mask column written.</param>
/// <param name="InputColumnNames">The columns read, in order.</param>
/// <param name="InputSizes">Values per row of each input column.</param>
/// <param name="Height">Mask height.</param>
/// <param name="Width">Mask width.</param>
internal sealed record KeepMaskRecipe(MaskKind Kind, string OutputColumnName, string[] InputColumnNames, int[] InputSizes, int Height, int Width)
{
    /// <summary>Rectangles (<see cref="MaskKind.Boxes"/>).</summary>
    public MaskBox[] Boxes { get; init; } = [];

    /// <summary>Whether the given boxes or segments are removed or kept.</summary>
    public MaskSelection Selection { get; init; }

    /// <summary>Patch side (<see cref="MaskKind.PatchGrid"/>).</summary>
    public int PatchSize { get; init; }

    /// <summary>Fraction of patches removed (<see cref="MaskKind.PatchGrid"/>).</summary>
    public double RemoveFraction { get; init; }

    /// <summary>Seed of the patch draws (<see cref="MaskKind.PatchGrid"/>).</summary>
    public int Seed { get; init; }

    /// <summary>Segment ids (<see cref="MaskKind.Segments"/>), sorted, distinct.</summary>
    public int[] SegmentIds { get; init; } = [];

    /// <summary>How masks are merged (<see cref="MaskKind.Combine"/>).</summary>
    public MaskCombination Combination { get; init; }

    /// <summary>Keep threshold on the channel mean (<see cref="MaskKind.Threshold"/>).</summary>
    public float Threshold { get; init; }

    /// <summary>Remove, rather than keep, at or above the threshold (<see cref="MaskKind.Threshold"/>).</summary>
    public bool Invert { get; init; }

    /// <summary>Pixels per mask.</summary>
    public int Pixels => Height * Width;
}
