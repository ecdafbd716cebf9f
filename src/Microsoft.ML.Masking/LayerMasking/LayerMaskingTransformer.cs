using Microsoft.ML.Masking.Core;
using Microsoft.ML;
using Microsoft.ML.Masking.Core.Batching;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.LayerMasking.Engine;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

[assembly: LoadableClass(typeof(LayerMaskingTransformer), null, typeof(SignatureLoadModel), "Layer masking", LayerMaskingTransformer.LoaderSignature)]

namespace Microsoft.ML.Masking.LayerMasking;

/// <summary>
/// Scores images with part of each image removed: the rows' keep-masks say which pixels the network may use, and
/// the <see cref="MaskingMethod"/> says how the rest is taken out (layer masking by default). Lazy and batched:
/// the network runs on <see cref="BatchedTorchTransformer.BatchSize"/> rows at a time when the score column is read.
/// </summary>
public sealed class LayerMaskingTransformer : BatchedTorchTransformer, IDisposable
{
    internal const string LoaderSignature = "LayerMaskingTransform";
    private static readonly ModelFormat ModelFormat = new("LAYRMASK", LoaderSignature, typeof(LayerMaskingTransformer));
    private const string HeaderEntry = "Header.json";
    private const string WeightsEntry = "Weights.safetensors";

    private readonly Settings _settings;
    private readonly MaskedClassifier _classifier;
    private readonly Device _device;

    /// <summary>What is saved besides the weights: everything needed to rebuild the transformer.</summary>
    internal sealed record Settings(
        string ImageColumnName, string MaskColumnName, string ScoreColumnName, string? FeaturesColumnName,
        int ImageChannels, int ImageHeight, int ImageWidth, MaskingMethod Method, float[] ChannelMean, float[] ChannelStandardDeviation,
        double BlurSigma, int NoiseSeed, bool OutputLogits, int BatchSize, ResNetArchitecture Architecture,
        bool MaskMarksRemoved, string[]? ClassNames, string PredictedLabelColumnName);

    internal LayerMaskingTransformer(IHostEnvironment env, Settings settings, ResNet model)
        : base(env, nameof(LayerMaskingTransformer), InputColumns(settings), OutputColumns(settings), settings.BatchSize)
    {
        _settings = settings;
        Model = model;
        _device = HostDevice.Resolve(env);
        model.to(_device);
        _classifier = new MaskedClassifier(model, settings.Method, new ChannelNormalization(settings.ChannelMean, settings.ChannelStandardDeviation), settings.BlurSigma, _device);
    }

    /// <summary>The network (shared with whoever supplied it, not a copy).</summary>
    public ResNet Model { get; }

    /// <summary>The masking method.</summary>
    public MaskingMethod Method => _settings.Method;

    /// <summary>Name of the image input column.</summary>
    public string ImageColumnName => _settings.ImageColumnName;

    /// <summary>Name of the keep-mask input column.</summary>
    public string MaskColumnName => _settings.MaskColumnName;

    /// <summary>Name of the score output column.</summary>
    public string ScoreColumnName => _settings.ScoreColumnName;

    private static BatchInputColumn[] InputColumns(Settings s) =>
    [
        new(s.ImageColumnName, s.ImageChannels * s.ImageHeight * s.ImageWidth),
        new(s.MaskColumnName, s.ImageHeight * s.ImageWidth),
    ];

    private static BatchOutputColumn[] OutputColumns(Settings s)
    {
        var outputs = new List<BatchOutputColumn> { BatchOutputColumn.FloatVector(s.ScoreColumnName, s.Architecture.NumClasses) };
        if (s.FeaturesColumnName is not null)
            outputs.Add(BatchOutputColumn.FloatVector(s.FeaturesColumnName, s.Architecture.FeatureChannels));
        if (s.ClassNames is not null)
            outputs.Add(BatchOutputColumn.Key(s.PredictedLabelColumnName, s.ClassNames));
        return outputs.ToArray();
    }

    private protected override ModelFormat Format => ModelFormat;

    private protected override void SaveModel(ModelContentWriter writer)
    {
        writer.WriteJson(HeaderEntry, _settings);
        writer.WriteWeights(WeightsEntry, Model);
    }

    private static LayerMaskingTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        var reader = ModelContentReader.Open(ctx, ModelFormat);
        var settings = reader.ReadJson<Settings>(HeaderEntry);
        var model = new ResNet(settings.Architecture);
        reader.ReadWeights(WeightsEntry, model);
        model.eval();
        return new LayerMaskingTransformer(env, settings, model);
    }

    private protected override void MapBatch(BatchBuffers inputs, BatchBuffers outputs, int rowCount)
    {
        var s = _settings;
        var pixels = inputs[0].ToTensor(rowCount, [s.ImageChannels, s.ImageHeight, s.ImageWidth], _device);
        var mask = inputs[1].ToTensor(rowCount, [s.ImageHeight, s.ImageWidth], _device);
        if (!isfinite(pixels).all().item<bool>())
            throw new InvalidOperationException($"Column '{s.ImageColumnName}' holds NaN or infinite pixel values; layer masking needs finite pixels (remove the rows or fix the images).");
        var nonBinary = mask.NotEqual(0).logical_and_(mask.NotEqual(1));
        if (nonBinary.any().item<bool>())
        {
            float bad = mask.masked_select(nonBinary)[0].item<float>();
            throw new InvalidOperationException($"Column '{s.MaskColumnName}' must hold only 0 and 1; found {bad}. Threshold soft masks before this transform.");
        }
        var keep = s.MaskMarksRemoved ? mask.OneMinus() : mask;
        using var generator = new Generator((ulong)s.NoiseSeed, _device);
        var result = _classifier.Forward(pixels, keep, generator);
        var score = outputs[s.ScoreColumnName];
        if (score.IsActive)
            score.CopyFrom(s.OutputLogits ? result.Logits : result.Logits.softmax(1), rowCount);
        if (s.FeaturesColumnName is not null && outputs[s.FeaturesColumnName] is { IsActive: true } features)
            features.CopyFrom(result.Features!, rowCount);
        if (s.ClassNames is not null && outputs[s.PredictedLabelColumnName] is { IsActive: true } predicted)
            predicted.CopyKeysFrom(result.Logits.argmax(1), rowCount);
    }

    /// <summary>Releases the derived tensors (folded weights); the model itself is not disposed.</summary>
    public void Dispose() => _classifier.Dispose();
}
