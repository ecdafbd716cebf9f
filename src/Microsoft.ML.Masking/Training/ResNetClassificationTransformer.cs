using Microsoft.ML.Masking.Core;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Masking.Core.Batching;
using Microsoft.ML.Masking.Core.Persistence;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Training;
using Microsoft.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

[assembly: LoadableClass(typeof(ResNetClassificationTransformer), null, typeof(SignatureLoadModel),
    "ResNet classification transformer", ResNetClassificationTransformer.LoaderSignature)]

namespace Microsoft.ML.Masking.Training;

/// <summary>
/// A trained ResNet classifier as an ML.NET transformer: reads a planar float image column and adds a Score
/// column (one probability per class, slot names = class names) and a PredictedLabel key column with the label's
/// key values, so <c>mlContext.MulticlassClassification.Evaluate</c> accepts its output. Scores batches of rows
/// per forward pass, lazily. Saves and loads with the pipeline (<c>mlContext.Model.Save/Load</c>); the weights are
/// stored as safetensors in the model.zip.
/// </summary>
/// <remarks>
/// The network is exposed as <see cref="ResNet"/> for layer masking and attribution; it expects images normalised
/// with <see cref="Normalization"/>.
/// </remarks>
public sealed class ResNetClassificationTransformer : BatchedTorchTransformer
{
    internal const string LoaderSignature = "ResNetClassifier";
    private static readonly ModelFormat ModelFormat = new("RESNETCL", LoaderSignature, typeof(ResNetClassificationTransformer));
    private const string HeaderStream = "Header.json";
    private const string WeightsStream = "ResNet.safetensors";
    private const string HistoryStream = "TrainingHistory.json";

    private static readonly JsonSerializerOptions HistoryJson = new(ModelJson.Options)
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private readonly Device _device;

    /// <summary>What the model.zip entry stores besides the weights.</summary>
    internal sealed record Header(
        string ImageColumnName, ImageShape ImageShape, string ScoreColumnName, string PredictedLabelColumnName,
        string[] ClassNames, float[] ChannelMean, float[] ChannelStandardDeviation, ResNetArchitecture Architecture, int BatchSize);

    internal ResNetClassificationTransformer(IHostEnvironment env, Header header, ResNet network, IReadOnlyList<ResNetEpochReport> history)
        : base(env, nameof(ResNetClassificationTransformer),
            [BatchInputColumn.Image(header.ImageColumnName, header.ImageShape)],
            [
                BatchOutputColumn.FloatVector(header.ScoreColumnName, header.ClassNames.Length, header.ClassNames),
                BatchOutputColumn.Key(header.PredictedLabelColumnName, header.ClassNames),
            ],
            header.BatchSize)
    {
        HeaderValue = header;
        ResNet = network;
        Classifier = ImageClassifier.FromHeader(
            new ImageClassifierHeader(header.Architecture, header.ImageShape, header.ChannelMean, header.ChannelStandardDeviation, header.ClassNames), network);
        TrainingHistory = new ResNetTrainingHistory(history);
        _device = HostDevice.Resolve(env);
        ResNet.to(_device);
        ResNet.eval();
    }

    /// <summary>
    /// The trained classifier as the one description every other component takes (<c>LayerMask</c>, the masking
    /// evaluators, attribution): the network, its normalisation, image shape and class names.
    /// </summary>
    public ImageClassifier Classifier { get; }

    /// <summary>The trained network (eval mode), the same object as <c>Classifier.Network</c>. Its input is an image batch [N, C, H, W] normalised with <see cref="Normalization"/>.</summary>
    public ResNet ResNet { get; }

    /// <summary>The per-channel normalisation the network was trained with, applied to the image column before the network.</summary>
    public ChannelNormalization Normalization => Classifier.Normalization;

    /// <summary>The layout of the image column.</summary>
    public ImageShape ImageShape => Classifier.ImageShape;

    /// <summary>The class names in label order: the key values of PredictedLabel and the slot names of Score.</summary>
    public IReadOnlyList<string> ClassNames => HeaderValue.ClassNames;

    /// <summary>The image column read.</summary>
    public string ImageColumnName => HeaderValue.ImageColumnName;

    /// <summary>The class-probability column written.</summary>
    public string ScoreColumnName => HeaderValue.ScoreColumnName;

    /// <summary>The predicted-class key column written.</summary>
    public string PredictedLabelColumnName => HeaderValue.PredictedLabelColumnName;

    /// <summary>One report per trained epoch (kept in the saved model), with CSV and SVG output of the training curves.</summary>
    public ResNetTrainingHistory TrainingHistory { get; }

    internal Header HeaderValue { get; }

    private protected override ModelFormat Format => ModelFormat;

    private protected override void SaveModel(ModelContentWriter writer)
    {
        writer.WriteJson(HeaderStream, HeaderValue);
        writer.WriteWeights(WeightsStream, ResNet);
        writer.WriteBytes(HistoryStream, JsonSerializer.SerializeToUtf8Bytes(TrainingHistory.ToArray(), HistoryJson));
    }

    private static ResNetClassificationTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        var reader = ModelContentReader.Open(ctx, ModelFormat);
        var header = reader.ReadJson<Header>(HeaderStream);
        var network = new ResNet(header.Architecture);
        reader.ReadWeights(WeightsStream, network);
        var history = JsonSerializer.Deserialize<ResNetEpochReport[]>(reader.ReadBytes(HistoryStream), HistoryJson) ?? [];
        return new ResNetClassificationTransformer(env, header, network, history);
    }

    private protected override void MapBatch(BatchBuffers inputs, BatchBuffers outputs, int rowCount)
    {
        var shape = ImageShape;
        var images = inputs[0].ToTensor(rowCount, [shape.Channels, shape.Height, shape.Width], _device);
        var logits = ResNet.forward(Normalization.Apply(images));
        if (outputs[0].IsActive)
            outputs[0].CopyFrom(logits.softmax(1), rowCount);
        if (outputs[1].IsActive)
            outputs[1].CopyKeysFrom(logits.argmax(1), rowCount);
    }
}
