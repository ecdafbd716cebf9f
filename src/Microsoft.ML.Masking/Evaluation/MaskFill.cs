using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Evaluation;

/// <summary>A colour the removed region is painted with in <see cref="MaskingEvaluationCatalog.EvaluateMaskColorDependence"/>.</summary>
public sealed class MaskFill
{
    private enum FillKind { Constant, DatasetMean, KeptMean }

    private readonly FillKind _kind;
    private readonly float[]? _color;

    private MaskFill(string name, FillKind kind, float[]? color)
    {
        Name = name;
        _kind = kind;
        _color = color;
    }

    /// <summary>The fill's name in results.</summary>
    public string Name { get; }

    /// <summary>
    /// The constant colour as fractions of full intensity (one value for every channel, or one per channel), or
    /// null for the fills computed from the data (<see cref="Grey"/>, <see cref="KeptMean"/>).
    /// </summary>
    public IReadOnlyList<float>? Color => _color;

    /// <summary>Black: pixel value 0.</summary>
    public static MaskFill Black { get; } = new("black", FillKind.Constant, [0f]);

    /// <summary>White: full intensity in every channel.</summary>
    public static MaskFill White { get; } = new("white", FillKind.Constant, [1f]);

    /// <summary>Pure red (three-channel images).</summary>
    public static MaskFill Red { get; } = new("red", FillKind.Constant, [1f, 0f, 0f]);

    /// <summary>Pure green (three-channel images).</summary>
    public static MaskFill Green { get; } = new("green", FillKind.Constant, [0f, 1f, 0f]);

    /// <summary>Pure blue (three-channel images).</summary>
    public static MaskFill Blue { get; } = new("blue", FillKind.Constant, [0f, 0f, 1f]);

    /// <summary>Grey: the data set's mean colour, i.e. the normalisation's mean (what <see cref="LayerMasking.MaskingMethod.Grey"/> paints).</summary>
    public static MaskFill Grey { get; } = new("grey", FillKind.DatasetMean, null);

    /// <summary>Each image's mean colour over its kept pixels (the data set's mean when nothing is kept).</summary>
    public static MaskFill KeptMean { get; } = new("mean", FillKind.KeptMean, null);

    /// <summary>A constant colour given as fractions of full intensity: one value for every channel, or one per channel.</summary>
    public static MaskFill Constant(string name, params float[] color)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(color);
        if (color.Length == 0 || color.Any(c => !float.IsFinite(c)))
            throw new ArgumentException("A fill colour needs at least one finite value.", nameof(color));
        return new MaskFill(name, FillKind.Constant, color.ToArray());
    }

    /// <inheritdoc/>
    public override string ToString() => Name;

    internal void EnsureChannels(int channels)
    {
        if (_color is { Length: > 1 } && _color.Length != channels)
            throw new ArgumentException($"Fill '{Name}' has {_color.Length} channel values; the images have {channels} channel(s).");
    }

    /// <summary>
    /// <paramref name="pixels"/> [B, C, H, W] with the pixels where <paramref name="keep"/> [B, 1, H, W] is 0 painted.
    /// </summary>
    internal Tensor Paint(Tensor pixels, Tensor keep, ChannelNormalization normalization, float maxPixelValue)
    {
        using var scope = NewDisposeScope();
        int channels = (int)pixels.shape[1];
        var datasetMean = normalization.MeanPixels(pixels.device);
        var color = _kind switch
        {
            FillKind.Constant => tensor(_color!.Length == 1 ? Enumerable.Repeat(_color[0] * maxPixelValue, channels).ToArray() : _color.Select(c => c * maxPixelValue).ToArray(),
                device: pixels.device).view(1, channels, 1, 1),
            FillKind.DatasetMean => datasetMean,
            _ => KeptMeanColor(pixels, keep, datasetMean),
        };
        return where(keep.GreaterThan(0), pixels, color.expand_as(pixels)).MoveToOuterDisposeScope();
    }

    private static Tensor KeptMeanColor(Tensor pixels, Tensor keep, Tensor datasetMean)
    {
        var kept = keep.sum([2, 3], keepdim: true);
        var mean = (pixels * keep).sum([2, 3], keepdim: true) / kept.ClampMin(1);
        return where(kept.GreaterThan(0), mean, datasetMean);
    }
}
