namespace Microsoft.ML.Masking.Data;

/// <summary>
/// The contents of one IDX file: its dimensions (outermost first) and its elements in file order,
/// converted to <see cref="float"/> (exact for the byte, short and float element types).
/// </summary>
internal sealed class IdxArray(string path, int[] dimensions, float[] values)
{
    /// <summary>The file it was read from, for error messages.</summary>
    public string Path { get; } = path;

    /// <summary>Dimensions, outermost first (for image files: count, rows, columns).</summary>
    public IReadOnlyList<int> Dimensions { get; } = dimensions;

    /// <summary>All elements, row-major.</summary>
    public float[] Values { get; } = values;
}
