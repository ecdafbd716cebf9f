using System.Numerics;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.LayerMasking.Engine;

/// <summary>
/// Neighbour padding on the CPU, one visit per filled position: the values of k iterations of the recurrence
/// (<see cref="NeighbourPadding.Pad"/>, and the fast path's coefficients <see cref="MaskAlgebra.PaddingCoefficients"/>)
/// without k dense passes over the activation. Built once per mask and iteration count (mask-only work, shared by every
/// convolution that pads the same mask), applied in place to any float32 CPU activation of the mask's shape.
/// </summary>
/// <remarks>
/// <para>Why it is the same computation: iteration t of x ← x + (1 − m_t)⊙boxsum(x)/(boxsum(m_t) + ε) changes only the
/// positions at chessboard distance t + 1 from the kept region (m_{t+1} is the 3×3 dilation of m_t, so m_t keeps exactly the
/// positions at distance ≤ t). Elsewhere the coefficient is 0 (already kept) or multiplies a box sum of zeros (no kept
/// neighbour yet; those values are still the zeros of the clean input). A position p at distance t + 1 is itself still
/// zero, so it becomes Σ x[q] / (count + ε) over its 3×3 neighbours q at distance ≤ t (the only non-zero terms of the box
/// sum; count = boxsum(m_t)[p]) and never changes again. Visiting the positions in order of distance and writing each fill
/// in place therefore reproduces the recurrence: every value a fill reads is final. Only the order of the additions
/// differs from a dense box sum (rounding).</para>
/// <para>Work is proportional to the filled positions times the channels, not to k times the map. The input must be clean
/// (zero at removed positions), as the fast path's convolution input is.</para>
/// </remarks>
internal sealed class FrontierFill
{
    // The 8 neighbours of a position, in the bit order of Image.Neighbours: row above, same row, row below.
    private static readonly (int Dy, int Dx)[] Offsets = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)];

    /// <summary>The filled positions of one image, in order of distance from the kept region.</summary>
    private sealed class Image(int[] pixels, byte[] neighbours, float[] coefficients)
    {
        /// <summary>y·width + x of each position to fill.</summary>
        public int[] Pixels { get; } = pixels;

        /// <summary>Which of the 8 neighbours (bit i = <see cref="Offsets"/>[i]) a position averages: those filled before it or kept.</summary>
        public byte[] Neighbours { get; } = neighbours;

        /// <summary>1 / (number of those neighbours + ε), as the recurrence's coefficient.</summary>
        public float[] Coefficients { get; } = coefficients;
    }

    // The set bits of every neighbour set, lowest first.
    private static readonly byte[][] SetBits = Enumerable.Range(0, 256)
        .Select(bits => Enumerable.Range(0, 8).Where(k => (bits & (1 << k)) != 0).Select(k => (byte)k).ToArray()).ToArray();

    private readonly Image[] _images;
    private readonly int _height, _width;

    private FrontierFill(Image[] images, int height, int width)
    {
        _images = images;
        _height = height;
        _width = width;
    }

    /// <summary>How many positions (over the batch) the fill writes.</summary>
    public long FilledPositions => _images.Sum(i => (long)i.Pixels.Length);

    /// <summary>Managed memory the plan holds (a position index, a neighbour set and a coefficient per filled position).</summary>
    public long Bytes => FilledPositions * (sizeof(int) + sizeof(byte) + sizeof(float));

    /// <summary>True when <paramref name="x"/> can be filled here: a float32 CPU tensor [N, C, H, W] (any strides).</summary>
    public static bool Supports(Tensor x) => x.dim() == 4 && x.dtype == ScalarType.Float32 && x.device_type == TorchSharp.DeviceType.CPU;

    /// <summary>The fill of <paramref name="iterations"/> neighbour-padding iterations around the kept region of <paramref name="mask"/>.</summary>
    /// <param name="mask">[N, 1, H, W], values 0 (removed) and 1 (kept), on the CPU.</param>
    /// <param name="iterations">Iterations of the recurrence (the border width filled).</param>
    public static unsafe FrontierFill Plan(Tensor mask, int iterations)
    {
        int n = (int)mask.shape[0], h = (int)mask.shape[2], w = (int)mask.shape[3];
        // Read in place from the tensor's storage: TorchSharp's ToArray copies element by element (≈ 10 ns each).
        using var values = mask.to(ScalarType.Float32).contiguous();
        using var storage = values.storage<float>();
        var origin = (IntPtr)((float*)storage.data_ptr() + values.storage_offset());
        var images = new Image[n];
        Parallel.For(0, n, Options(n * (long)h * w), i =>
            images[i] = PlanImage(new ReadOnlySpan<float>((float*)origin + (long)i * h * w, h * w), h, w, iterations));
        return new FrontierFill(images, h, w);
    }

    private static Image PlanImage(ReadOnlySpan<float> keep, int h, int w, int iterations)
    {
        // Chessboard distance to the nearest kept position within the image, capped at iterations + 1 ("not reached"):
        // two raster passes over the 8-neighbourhood give it exactly. Distance d = the iteration (d − 1) that fills a
        // position. The grid has a border of "not reached" cells, so no pass needs bounds checks.
        int far = iterations + 1, stride = w + 2;
        var grid = new int[(h + 2) * stride];
        Array.Fill(grid, far);
        for (int y = 0; y < h; y++)
        {
            var row = keep.Slice(y * w, w);
            int at = (y + 1) * stride + 1;
            for (int x = 0; x < w; x++)
                if (row[x] > 0) grid[at + x] = 0;
        }
        for (int y = 1; y <= h; y++)
            for (int p = y * stride + 1, end = p + w; p < end; p++)
            {
                int d = grid[p];
                if (d == 0) continue;
                int up = Math.Min(Math.Min(grid[p - stride - 1], grid[p - stride]), Math.Min(grid[p - stride + 1], grid[p - 1]));
                if (up + 1 < d) grid[p] = up + 1;
            }
        var perLevel = new int[far + 1];
        for (int y = h; y >= 1; y--)
            for (int p = y * stride + w, end = p - w; p > end; p--)
            {
                int d = grid[p];
                if (d != 0)
                {
                    int down = Math.Min(Math.Min(grid[p + stride - 1], grid[p + stride]), Math.Min(grid[p + stride + 1], grid[p + 1]));
                    if (down + 1 < d) grid[p] = d = down + 1;
                }
                perLevel[d]++;
            }

        // Positions at distance 1 … iterations, ordered by distance (a counting sort), each with the neighbours it
        // averages: those at a smaller distance (kept, or filled by an earlier iteration).
        int filled = 0;
        var start = new int[far + 1];
        for (int d = 1; d <= iterations; d++)
        {
            start[d] = filled;
            filled += perLevel[d];
        }
        var pixels = new int[filled];
        var neighbours = new byte[filled];
        var coefficients = new float[filled];
        float epsilon = (float)MaskAlgebra.PaddingEpsilon;
        for (int y = 1; y <= h; y++)
            for (int p = y * stride + 1, end = p + w; p < end; p++)
            {
                int d = grid[p];
                if (d == 0 || d > iterations) continue;
                int bits = (grid[p - stride - 1] < d ? 1 : 0) | (grid[p - stride] < d ? 2 : 0) | (grid[p - stride + 1] < d ? 4 : 0)
                    | (grid[p - 1] < d ? 8 : 0) | (grid[p + 1] < d ? 16 : 0)
                    | (grid[p + stride - 1] < d ? 32 : 0) | (grid[p + stride] < d ? 64 : 0) | (grid[p + stride + 1] < d ? 128 : 0);
                int i = start[d]++;
                pixels[i] = (y - 1) * w + (p - y * stride - 1);
                neighbours[i] = (byte)bits;
                // As the recurrence: (1 − m)/(boxsum(m) + ε) in float, boxsum(m) being the count of kept neighbours.
                coefficients[i] = 1f / (BitOperations.PopCount((uint)bits) + epsilon);
            }
        return new Image(pixels, neighbours, coefficients);
    }

    /// <summary>Fills <paramref name="x"/> in place.</summary>
    /// <param name="x">[N, C, H, W] float32 on the CPU, with the plan's N, H and W, zero at removed positions; any strides
    /// (channels-last maps are filled a vector of channels at a time).</param>
    public unsafe void Apply(Tensor x)
    {
        if (!Supports(x) || x.shape[0] != _images.Length || x.shape[2] != _height || x.shape[3] != _width)
            throw new ArgumentException($"The fill was planned for [{_images.Length}, C, {_height}, {_width}] float32 on the CPU; got [{string.Join(", ", x.shape)}] {x.dtype} on {x.device}.", nameof(x));
        long[] strides = x.stride();
        long channels = x.shape[1];
        var offsets = Offsets.Select(o => o.Dy * strides[2] + o.Dx * strides[3]).ToArray();
        using var storage = x.storage<float>();
        var origin = (IntPtr)((float*)storage.data_ptr() + x.storage_offset());
        long work = FilledPositions * channels;
        Parallel.For(0, _images.Length, Options(work), n =>
        {
            var image = _images[n];
            float* plane = (float*)origin + n * strides[0];
            Span<long> read = stackalloc long[8];
            for (int i = 0; i < image.Pixels.Length; i++)
            {
                int p = image.Pixels[i], count = 0;
                foreach (byte k in SetBits[image.Neighbours[i]]) read[count++] = offsets[k];
                float* target = plane + p / _width * strides[2] + p % _width * strides[3];
                if (strides[1] == 1)
                    FillContiguous(target, read[..count], channels, image.Coefficients[i]);
                else
                    FillStrided(target, read[..count], channels, strides[1], image.Coefficients[i]);
            }
        });
    }

    private static unsafe void FillContiguous(float* target, ReadOnlySpan<long> read, long channels, float coefficient)
    {
        long c = 0;
        if (Vector.IsHardwareAccelerated)
            for (int width = Vector<float>.Count; c + width <= channels; c += width)
            {
                var sum = Vector.Load(target + read[0] + c);
                for (int k = 1; k < read.Length; k++) sum += Vector.Load(target + read[k] + c);
                (sum * coefficient).Store(target + c);
            }
        for (; c < channels; c++)
        {
            float sum = target[read[0] + c];
            for (int k = 1; k < read.Length; k++) sum += target[read[k] + c];
            target[c] = sum * coefficient;
        }
    }

    private static unsafe void FillStrided(float* target, ReadOnlySpan<long> read, long channels, long channelStride, float coefficient)
    {
        for (long c = 0; c < channels; c++)
        {
            float* at = target + c * channelStride;
            float sum = at[read[0]];
            for (int k = 1; k < read.Length; k++) sum += at[read[k]];
            at[0] = sum * coefficient;
        }
    }

    // Two-core machines are the common case: parallel only when there is enough work to pay for the hand-off, and never
    // on more threads than libtorch itself uses (the caller's torch.set_num_threads).
    private static ParallelOptions Options(long work) =>
        new() { MaxDegreeOfParallelism = work < 1 << 15 ? 1 : Math.Max(1, TorchSharp.torch.get_num_threads()) };
}
