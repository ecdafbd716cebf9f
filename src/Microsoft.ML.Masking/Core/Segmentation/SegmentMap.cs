namespace Microsoft.ML.Masking.Core.Segmentation;

/// <summary>
/// A partition of an image into segments: every pixel carries exactly one segment id, and the ids are
/// <c>0 … SegmentCount − 1</c>, each used at least once. Feature-removal curves remove whole segments.
/// </summary>
public sealed class SegmentMap
{
    private readonly int[] _labels;

    private SegmentMap(int height, int width, int[] labels, int segmentCount)
    {
        Height = height;
        Width = width;
        _labels = labels;
        SegmentCount = segmentCount;
    }

    /// <summary>Image height in pixels.</summary>
    public int Height { get; }

    /// <summary>Image width in pixels.</summary>
    public int Width { get; }

    /// <summary>Number of segments.</summary>
    public int SegmentCount { get; }

    /// <summary>The segment id of each pixel, row-major (height × width).</summary>
    public ReadOnlySpan<int> Labels => _labels;

    /// <summary>
    /// Square patches of <paramref name="patchSize"/> pixels in raster order. When the size does not divide the
    /// image, the last row and column of patches are narrower (the image is never resized).
    /// </summary>
    public static SegmentMap Patches(int height, int width, int patchSize)
    {
        CheckSize(height, width);
        if (patchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(patchSize), patchSize, "The patch size must be at least one pixel.");
        int columns = (width + patchSize - 1) / patchSize, rows = (height + patchSize - 1) / patchSize;
        var labels = new int[height * width];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                labels[y * width + x] = y / patchSize * columns + x / patchSize;
        return new SegmentMap(height, width, labels, rows * columns);
    }

    /// <summary>
    /// A user-given segmentation: one non-negative whole number per pixel (stored as floats, as ML.NET vector
    /// columns are). Ids need not be consecutive; they are renumbered in order of first appearance. A segment
    /// need not be connected.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong length, or a value that is not a non-negative whole number.</exception>
    public static SegmentMap FromIds(ReadOnlySpan<float> ids, int height, int width)
    {
        CheckSize(height, width);
        if (ids.Length != height * width)
            throw new ArgumentException($"A segmentation of a {height}×{width} image needs {height * width} ids; got {ids.Length}.", nameof(ids));
        var dense = new Dictionary<float, int>();
        var labels = new int[ids.Length];
        for (int p = 0; p < ids.Length; p++)
        {
            float id = ids[p];
            if (!(id >= 0) || id != MathF.Floor(id) || id > 1 << 24)
                throw new ArgumentException(FormattableString.Invariant($"Segment ids must be non-negative whole numbers (at most 2^24, exact in a float); pixel {p} holds {id}."), nameof(ids));
            if (!dense.TryGetValue(id, out int label))
                dense.Add(id, label = dense.Count);
            labels[p] = label;
        }
        return new SegmentMap(height, width, labels, dense.Count);
    }

    /// <summary>Wraps labels already numbered 0 … count − 1 with every id used (checked).</summary>
    internal static SegmentMap FromDenseLabels(int[] labels, int height, int width)
    {
        CheckSize(height, width);
        if (labels.Length != height * width)
            throw new ArgumentException($"Expected {height * width} labels; got {labels.Length}.", nameof(labels));
        int count = labels.Length == 0 ? 0 : labels.Max() + 1;
        var used = new bool[count];
        foreach (int label in labels)
        {
            if (label < 0) throw new ArgumentException("Labels must be non-negative.", nameof(labels));
            used[label] = true;
        }
        if (used.Any(u => !u))
            throw new ArgumentException("Labels must use every id from 0 to their maximum.", nameof(labels));
        return new SegmentMap(height, width, labels, count);
    }

    /// <summary>
    /// How many segments removing <paramref name="fraction"/> of them removes: round(fraction × count), half away
    /// from zero — the one rounding the evaluators and the mask transforms share.
    /// </summary>
    public int SegmentsForFraction(double fraction) =>
        (int)Math.Round(fraction * SegmentCount, MidpointRounding.AwayFromZero);

    /// <summary>Pixels in each segment.</summary>
    public int[] SegmentSizes()
    {
        var sizes = new int[SegmentCount];
        foreach (int label in _labels)
            sizes[label]++;
        return sizes;
    }

    /// <summary>
    /// The mean of <paramref name="pixelValues"/> (one per pixel, e.g. an attribution map) over each segment's pixels.
    /// </summary>
    public double[] SegmentMeans(ReadOnlySpan<float> pixelValues)
    {
        if (pixelValues.Length != _labels.Length)
            throw new ArgumentException($"Expected one value per pixel ({_labels.Length}); got {pixelValues.Length}.", nameof(pixelValues));
        var sums = new double[SegmentCount];
        for (int p = 0; p < _labels.Length; p++)
            sums[_labels[p]] += pixelValues[p];
        var sizes = SegmentSizes();
        for (int s = 0; s < sums.Length; s++)
            sums[s] /= sizes[s];
        return sums;
    }

    /// <summary>
    /// Writes a keep-mask (1 kept, 0 removed) into <paramref name="keep"/>: pixels whose segment is flagged in
    /// <paramref name="removed"/> get 0.
    /// </summary>
    public void WriteKeepMask(ReadOnlySpan<bool> removed, Span<float> keep)
    {
        if (removed.Length != SegmentCount)
            throw new ArgumentException($"Expected one flag per segment ({SegmentCount}); got {removed.Length}.", nameof(removed));
        if (keep.Length != _labels.Length)
            throw new ArgumentException($"Expected one mask value per pixel ({_labels.Length}); got {keep.Length}.", nameof(keep));
        for (int p = 0; p < _labels.Length; p++)
            keep[p] = removed[_labels[p]] ? 0f : 1f;
    }

    private static void CheckSize(int height, int width)
    {
        if (height < 1 || width < 1)
            throw new ArgumentOutOfRangeException(nameof(height), $"An image needs positive height and width; got {height}×{width}.");
    }
}
