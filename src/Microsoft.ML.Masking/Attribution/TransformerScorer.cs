using Microsoft.ML.Data;
using Microsoft.ML.Masking.Attribution.Engine;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.LayerMasking.Engine;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution;

/// <summary>
/// Scores perturbed images with any ML.NET transformer: the removed pixels are filled by a baseline (in the
/// normalised space of <see cref="FillNormalization"/>, where grey is the mean colour, then mapped back to pixels), the
/// images become rows of an in-memory data view with one image column, and the transformer's score column is read back.
/// One data view per pass of the internal batch size, so the transformer sees batches too.
/// </summary>
internal sealed class TransformerScorer : IPerturbationScorer, IDisposable
{
    private readonly ITransformer _model;
    private readonly string _imageColumn, _scoreColumn;
    private readonly ImageShape _shape;
    private readonly MaskingMethod _method;
    private readonly double _blurSigma;
    private readonly Tensor _black, _mean, _deviation;

    public TransformerScorer(ITransformer model, string imageColumn, string scoreColumn, ImageShape shape, int classCount,
        ChannelNormalization fill, MaskingMethod method, double blurSigma)
    {
        if (method == MaskingMethod.LayerMasking)
            throw new ArgumentException("Layer masking needs a TorchSharp CNN; an ML.NET transformer only sees painted images.", nameof(method));
        fill.EnsureChannels(shape.Channels);
        _model = model;
        _imageColumn = imageColumn;
        _scoreColumn = scoreColumn;
        _shape = shape;
        ClassCount = classCount;
        FillNormalization = fill;
        _method = method;
        _blurSigma = blurSigma;
        _black = fill.Black(CPU).DetachFromDisposeScope();
        _mean = tensor(fill.Mean.ToArray()).view(1, -1, 1, 1).DetachFromDisposeScope();
        _deviation = tensor(fill.StandardDeviation.ToArray()).view(1, -1, 1, 1).DetachFromDisposeScope();
    }

    /// <summary>Defines grey (the mean) and the noise scale of the fills.</summary>
    public ChannelNormalization FillNormalization { get; }

    public int ClassCount { get; }

    public Device Device => CPU;

    /// <summary>The schema of the rows this scorer builds: the image column only.</summary>
    public static DataViewSchema RowSchema(string imageColumn, ImageShape shape) =>
        Rows(imageColumn, shape.Size, []).Schema;

    public Tensor Scores(Tensor pixels, Tensor keep, PerturbationNoise noise)
    {
        using var scope = NewDisposeScope();
        var cpuPixels = pixels.cpu();
        var mask = KeepMask.Normalize(cpuPixels, keep.cpu());
        var draw = _method == MaskingMethod.Noise ? noise.Normal(cpuPixels.shape.AsSpan(1), CPU) : null;
        var filled = InputMasking.Apply(_method, FillNormalization.Apply(cpuPixels), mask, _black, _blurSigma, null, draw);
        var painted = filled.mul(_deviation).Plus(_mean).contiguous();
        var values = painted.data<float>().ToArray();
        int rows = (int)pixels.shape[0];
        var scored = _model.Transform(Rows(_imageColumn, _shape.Size, values));
        var column = scored.Schema.GetColumnOrNull(_scoreColumn)
            ?? throw new InvalidOperationException($"The scorer transformer wrote no column '{_scoreColumn}'.");
        var scores = new float[rows * ClassCount];
        using (var cursor = scored.GetRowCursor([column]))
        {
            var getter = cursor.GetGetter<VBuffer<float>>(column);
            VBuffer<float> buffer = default;
            int row = 0;
            while (cursor.MoveNext())
            {
                getter(ref buffer);
                if (buffer.Length != ClassCount)
                    throw new InvalidOperationException($"Column '{_scoreColumn}' produced {buffer.Length} scores; its type promises {ClassCount}.");
                buffer.CopyTo(scores.AsSpan(row * ClassCount, ClassCount));
                row++;
            }
            if (row != rows)
                throw new InvalidOperationException($"The scorer transformer returned {row} rows for {rows} images; it must map rows one to one.");
        }
        return tensor(scores, [rows, ClassCount]).to(pixels.device).MoveToOuterDisposeScope();
    }

    private static IndexedDataView<int> Rows(string imageColumn, int size, float[] values) =>
        new(values.Length / Math.Max(size, 1), i => (int)i,
            [IndexedColumn<int>.FloatVector(imageColumn, size, (i, target) => values.AsSpan(i * size, size).CopyTo(target))]);

    public void Dispose()
    {
        _black.Dispose();
        _mean.Dispose();
        _deviation.Dispose();
    }
}
