namespace Microsoft.ML.Masking.Evaluation.Engine;

/// <summary>Layout of the planar images an evaluation reads.</summary>
internal readonly record struct ImageGeometry(int Channels, int Height, int Width)
{
    /// <summary>Pixels per image (height × width).</summary>
    public int Pixels => Height * Width;

    /// <summary>Values per image (channels × height × width).</summary>
    public int Size => Channels * Pixels;

    public override string ToString() => $"{Channels}×{Height}×{Width}";
}
