using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Pretraining.Engine;

/// <summary>
/// The fixed 2-D sine–cosine positional embedding of MAE (after Vaswani et al.'s 1-D one). For the patch in row
/// <c>r</c> and column <c>c</c> of the patch grid and a width <c>D</c>, with <c>K = D / 4</c> and
/// <c>ω_k = 10000^(−k/K)</c>, k = 0 … K − 1:
/// <code>
/// e[k]        = sin(c · ω_k)      e[K + k]  = cos(c · ω_k)
/// e[2K + k]   = sin(r · ω_k)      e[3K + k] = cos(r · ω_k)
/// </code>
/// The first half encodes the column, the second the row, in the reference's order. The CLS token's row is zero.
/// The embedding is a constant (a buffer), never trained.
/// </summary>
internal static class SinCosPositionalEmbedding
{
    /// <summary>The embedding table, [1 + rows × columns, width] float32 (row 0 for the CLS token), in row-major patch order.</summary>
    public static Tensor Create(int rows, int columns, int width)
    {
        if (width % 4 != 0)
            throw new ArgumentOutOfRangeException(nameof(width), width, "The 2-D sine–cosine embedding needs a width divisible by 4.");
        int quarter = width / 4;
        var table = new float[(1 + rows * columns) * width];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                int offset = (1 + r * columns + c) * width;
                for (int k = 0; k < quarter; k++)
                {
                    double omega = Math.Pow(10000.0, -(double)k / quarter);
                    table[offset + k] = (float)Math.Sin(c * omega);
                    table[offset + quarter + k] = (float)Math.Cos(c * omega);
                    table[offset + 2 * quarter + k] = (float)Math.Sin(r * omega);
                    table[offset + 3 * quarter + k] = (float)Math.Cos(r * omega);
                }
            }
        }
        return tensor(table, [1 + rows * columns, width]);
    }
}
