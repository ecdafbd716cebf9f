using Microsoft.ML.Masking.Core;
using Microsoft.ML;
using Microsoft.ML.Masking.Core.Batching;
using Microsoft.ML.Masking.Core.Randomness;
using Microsoft.ML.Masking.Data;
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
    // Version 2: the classifier is saved as one ImageClassifierHeader; MaskingMethod.MeanColour became MeanColor.
    private static readonly ModelFormat ModelFormat = new("LAYRMASK", LoaderSignature, typeof(LayerMaskingTransformer), version: 2, oldestReadableVersion: 1);
    private const string HeaderEntry = "Header.json";
    private const string WeightsEntry = "Weights.safetensors";

    private readonly Settings _settings;
    private readonly MaskedClassifier _masked;
    private readonly Device _device;
    private volatile bool _disposed;

    /// <summary>The transform's own settings (the classifier is saved next to them).</summary>
    internal sealed record Settings(
        string ImageColumnName, string MaskColumnName, string ScoreColumnName, string? FeaturesColumnName, MaskingMethod Method,
        double BlurSigma, int NoiseSeed, bool OutputLogits, int BatchSize, bool MaskMarksRemoved, string PredictedLabelColumnName,
        int[]? ClassOrder = null);

    /// <summary>What Header.json holds.</summary>
    internal sealed record SavedHeader(Settings Settings, ImageClassifierHeader Classifier);

    /// <summary>Header.json of version 1, whose fields were flat.</summary>
    internal sealed record SavedHeaderV1(
        string ImageColumnName, string MaskColumnName, string ScoreColumnName, string? FeaturesColumnName,
        int ImageChannels, int ImageHeight, int ImageWidth, string Method, float[] ChannelMean, float[] ChannelStandardDeviation,
        double BlurSigma, int NoiseSeed, bool OutputLogits, int BatchSize, ResNetArchitecture Architecture,
        bool MaskMarksRemoved, string[]? ClassNames, string PredictedLabelColumnName)
    {
        public SavedHeader Upgrade() => new(
            new Settings(ImageColumnName, MaskColumnName, ScoreColumnName, FeaturesColumnName,
                Enum.Parse<MaskingMethod>(Method == "MeanColour" ? nameof(MaskingMethod.MeanColor) : Method),
                BlurSigma, NoiseSeed, OutputLogits, BatchSize, MaskMarksRemoved, PredictedLabelColumnName),
            new ImageClassifierHeader(Architecture, new ImageShape(ImageChannels, ImageHeight, ImageWidth), ChannelMean, ChannelStandardDeviation, ClassNames));
    }

    internal LayerMaskingTransformer(IHostEnvironment env, Settings settings, ImageClassifier classifier)
        : base(env, nameof(LayerMaskingTransformer), InputColumns(settings, classifier), OutputColumns(settings, classifier), settings.BatchSize)
    {
        _settings = settings;
        Classifier = classifier;
        _device = classifier.ResolveDevice(env);
        classifier.Network.to(_device);
        _masked = new MaskedClassifier(classifier.Network, settings.Method, classifier.Normalization, settings.BlurSigma, _device);
    }

    /// <summary>The classifier (its network is shared with whoever supplied it, not a copy).</summary>
    public ImageClassifier Classifier { get; }

    /// <summary>The masking method.</summary>
    public MaskingMethod Method => _settings.Method;

    /// <summary>Name of the image input column.</summary>
    public string ImageColumnName => _settings.ImageColumnName;

    /// <summary>Name of the keep-mask input column.</summary>
    public string MaskColumnName => _settings.MaskColumnName;

    /// <summary>Name of the score output column.</summary>
    public string ScoreColumnName => _settings.ScoreColumnName;

    private static BatchInputColumn[] InputColumns(Settings s, ImageClassifier c) =>
    [
        BatchInputColumn.Image(s.ImageColumnName, c.ImageShape),
        BatchInputColumn.PerPixel(s.MaskColumnName, "masks", shape: c.ImageShape),
    ];

    /// <summary>The class names in output order: the classifier's, or the label's when <see cref="Settings.ClassOrder"/> reorders them.</summary>
    private static string[]? OutputClassNames(Settings s, ImageClassifier c) =>
        c.ClassNames is null ? null : s.ClassOrder is { } order ? order.Select(i => c.ClassNames[i]).ToArray() : c.ClassNames.ToArray();

    private static BatchOutputColumn[] OutputColumns(Settings s, ImageClassifier c)
    {
        // A backbone without a classifier head (ImageClassifier.HasClassifierHead false) writes its pooled features there.
        var outputs = new List<BatchOutputColumn> { BatchOutputColumn.FloatVector(s.ScoreColumnName, c.HasClassifierHead ? c.ClassCount : c.FeatureCount!.Value) };
        if (s.FeaturesColumnName is not null)
            outputs.Add(BatchOutputColumn.FloatVector(s.FeaturesColumnName, c.FeatureCount
                ?? throw new ArgumentException($"Column '{s.FeaturesColumnName}': the network has no penultimate features.")));
        if (OutputClassNames(s, c) is { } names)
            outputs.Add(BatchOutputColumn.Key(s.PredictedLabelColumnName, names));
        return outputs.ToArray();
    }

    private protected override ModelFormat Format => ModelFormat;

    private protected override void SaveModel(ModelContentWriter writer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        writer.WriteJson(HeaderEntry, new SavedHeader(_settings, Classifier.ToHeader()));
        writer.WriteWeights(WeightsEntry, Classifier.Network);
    }

    private static LayerMaskingTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        var reader = ModelContentReader.Open(ctx, ModelFormat);
        var header = reader.Version == 1 ? reader.ReadJson<SavedHeaderV1>(HeaderEntry).Upgrade() : reader.ReadJson<SavedHeader>(HeaderEntry);
        var network = header.Classifier.BuildNetwork();
        reader.ReadWeights(WeightsEntry, network);
        network.eval();
        return new LayerMaskingTransformer(env, header.Settings, ImageClassifier.FromHeader(header.Classifier, network));
    }

    private protected override void MapBatch(BatchBuffers inputs, BatchBuffers outputs, int rowCount)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var s = _settings;
        var shape = Classifier.ImageShape;
        var pixels = inputs[0].ToTensor(rowCount, [shape.Channels, shape.Height, shape.Width], _device);
        var mask = inputs[1].ToTensor(rowCount, [shape.Height, shape.Width], _device);
        var keep = s.MaskMarksRemoved ? mask.OneMinus() : mask;
        pixels = LayerMaskInputCheck.Check(pixels, mask, keep, s.Method, s.ImageColumnName, s.MaskColumnName, inputs.FirstRow);
        // Noise per row (seed, row position), so a row's fill does not depend on the batch size or its place in a batch.
        using var noise = s.Method == MaskingMethod.Noise ? RowNoise.Normal(s.NoiseSeed, SeedStream.LayerMaskNoise, inputs.FirstRow, pixels.shape, _device) : null;
        // The mask values were checked just above; the classifier checks only shapes (no second wait for the device).
        var result = _masked.ForwardChecked(pixels, keep, noise: noise);
        var logits = s.ClassOrder is { } order ? result.Logits.index_select(1, tensor(order.Select(i => (long)i).ToArray(), device: _device)) : result.Logits;
        var score = outputs[s.ScoreColumnName];
        if (score.IsActive)
            score.CopyFrom(!Classifier.HasClassifierHead ? result.Features ?? result.Logits : s.OutputLogits ? logits : logits.softmax(1), rowCount);
        if (s.FeaturesColumnName is not null && outputs[s.FeaturesColumnName] is { IsActive: true } features)
            features.CopyFrom(result.Features!, rowCount);
        if (Classifier.ClassNames is not null && outputs[s.PredictedLabelColumnName] is { IsActive: true } predicted)
            predicted.CopyKeysFrom(logits.argmax(1), rowCount);
    }

    /// <summary>Releases the derived tensors (folded weights); the network itself is not disposed. Using the transformer afterwards throws <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _masked.Dispose();
    }
}
