using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Batching;
using Microsoft.ML.Masking.Core.Persistence;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Ensemble;
using Microsoft.ML.Masking.Ensemble.Engine;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Training;
using Microsoft.ML.Runtime;
using static TorchSharp.torch;

[assembly: LoadableClass(typeof(DynamicMaskEnsembleTransformer), null, typeof(SignatureLoadModel),
    "Dynamic-mask ensemble transformer", DynamicMaskEnsembleTransformer.LoaderSignature)]

namespace Microsoft.ML.Masking.Ensemble;

/// <summary>
/// A trained dynamic-mask ensemble as an ML.NET transformer. Reads a planar float image column and adds Score (the
/// aggregated class probabilities, slot names = class names), PredictedLabel (a key with the label's key values),
/// and the open-set columns, each a Single per row that users can threshold:
/// <list type="bullet">
/// <item>MSP — maximum of Score; higher = more likely a known class.</item>
/// <item>Energy — −logsumexp of the weighted mean of the members' logits; higher = more likely unknown.</item>
/// <item>MutualInformation — the members' disagreement (≥ 0); higher = more likely unknown.</item>
/// <item>MemberAveragedEnergy — the weighted mean of the members' energies, never above Energy; higher = more likely unknown.</item>
/// <item>GateClosure — mean of 1 − gate over members 1, 2, …, in [0, 1); higher = the gates closed more features.</item>
/// </list>
/// and Gates, every member's gate (member 0's is all ones): [members, channels] for channel gating, [members, h, w]
/// over the last feature map for spatial gating (<see cref="EnsembleGating.FixedSpatial"/>,
/// <see cref="EnsembleGating.LearnedSpatial"/>), drawable as a heat map per member. Batches rows
/// per forward pass, lazily; saves and loads with the pipeline (<c>mlContext.Model.Save/Load</c>) with each member's
/// and gate's weights as safetensors, the channel-importance record and the training histories.
/// </summary>
public sealed class DynamicMaskEnsembleTransformer : BatchedTorchTransformer
{
    internal const string LoaderSignature = "DynamicMaskEnsemble";
    // Version 2: the importance method, spatial gating (FixedSpatial, LearnedSpatial) with the fixed rule's θ and T, and
    // the last feature map's size. Version 1 headers lack them and read with their defaults (Exact, channel gates).
    private static readonly ModelFormat ModelFormat = new("DMENSEMB", LoaderSignature, typeof(DynamicMaskEnsembleTransformer), version: 2, oldestReadableVersion: 1);
    private const string HeaderStream = "Header.json";
    private const string HistoryStream = "TrainingHistory.json";

    private static readonly JsonSerializerOptions HistoryJson = new(ModelJson.Options)
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private readonly Device _device;
    private readonly EnsembleNetwork _network;

    /// <summary>What the model.zip entry stores besides the weights.</summary>
    internal sealed record Header(
        string ImageColumnName, ImageShape ImageShape, string ScoreColumnName, string PredictedLabelColumnName,
        string MaximumSoftmaxProbabilityColumnName, string EnergyColumnName, string MutualInformationColumnName,
        string MemberAveragedEnergyColumnName, string GateClosureColumnName, string GatesColumnName,
        string[] ClassNames, float[] ChannelMean, float[] ChannelStandardDeviation, ResNetArchitecture Architecture,
        int MemberCount, EnsembleGating Gating, int GateHiddenUnits, EnsembleAggregation Aggregation, float[] MemberWeights,
        float[][] ChannelImportance, int BatchSize, ChannelImportanceMethod ImportanceMethod = ChannelImportanceMethod.Exact,
        double SpatialGateThreshold = 2, double SpatialGateTemperature = 0.25, int[]? FeatureMapSize = null)
    {
        /// <summary>The Gates column's dimensions: [members, channels], or [members, h, w] for spatial gates.</summary>
        public int[] GateDimensions => Gating is EnsembleGating.FixedSpatial or EnsembleGating.LearnedSpatial
            ? [MemberCount, .. FeatureMapSize ?? throw new InvalidOperationException("A spatially gated ensemble's header must give the feature map size.")]
            : [MemberCount, Architecture.FeatureChannels];
    }

    internal DynamicMaskEnsembleTransformer(IHostEnvironment env, Header header, EnsembleNetwork network,
        IReadOnlyList<IReadOnlyList<ResNetEpochReport>> histories)
        : base(env, nameof(DynamicMaskEnsembleTransformer),
            [BatchInputColumn.Image(header.ImageColumnName, header.ImageShape)],
            [
                BatchOutputColumn.FloatVector(header.ScoreColumnName, header.ClassNames.Length, header.ClassNames),
                BatchOutputColumn.Key(header.PredictedLabelColumnName, header.ClassNames),
                BatchOutputColumn.Float(header.MaximumSoftmaxProbabilityColumnName),
                BatchOutputColumn.Float(header.EnergyColumnName),
                BatchOutputColumn.Float(header.MutualInformationColumnName),
                BatchOutputColumn.Float(header.MemberAveragedEnergyColumnName),
                BatchOutputColumn.Float(header.GateClosureColumnName),
                BatchOutputColumn.FloatVector(header.GatesColumnName, header.GateDimensions.Aggregate(1, (a, b) => a * b),
                    dimensions: header.GateDimensions),
            ],
            header.BatchSize)
    {
        HeaderValue = header;
        _network = network;
        var classifierHeader = new ImageClassifierHeader(header.Architecture, header.ImageShape, header.ChannelMean, header.ChannelStandardDeviation, header.ClassNames);
        Members = network.Members.Select(m => ImageClassifier.FromHeader(classifierHeader, m)).ToArray();
        Normalization = Members[0].Normalization;
        ChannelImportance = new ChannelImportanceRecord(header.ChannelImportance, header.ImportanceMethod);
        TrainingHistories = histories.Select(h => new ResNetTrainingHistory(h)).ToArray();
        _device = HostDevice.Resolve(env);
        network.Freeze(_device);
    }

    /// <summary>
    /// The members as classifier descriptions (for attribution, layer masking, evaluation), in training order. Their
    /// networks are the ungated members: member i's gate exists only inside the ensemble.
    /// </summary>
    public IReadOnlyList<ImageClassifier> Members { get; }

    /// <summary>The per-channel normalisation every member was trained with.</summary>
    public ChannelNormalization Normalization { get; }

    /// <summary>The running record of channel importance, one entry per member.</summary>
    public ChannelImportanceRecord ChannelImportance { get; }

    /// <summary>Each member's aggregation weight (summing to 1).</summary>
    public IReadOnlyList<float> MemberWeights => HeaderValue.MemberWeights;

    /// <summary>How members 1, 2, … are gated.</summary>
    public EnsembleGating Gating => HeaderValue.Gating;

    /// <summary>The dimensions of the Gates column: [members, channels], or [members, h, w] for spatial gates.</summary>
    public IReadOnlyList<int> GateDimensions => HeaderValue.GateDimensions;

    /// <summary>One training history per member.</summary>
    public IReadOnlyList<ResNetTrainingHistory> TrainingHistories { get; }

    /// <summary>The layout of the image column.</summary>
    public ImageShape ImageShape => HeaderValue.ImageShape;

    /// <summary>The class names in label order: the key values of PredictedLabel and the slot names of Score.</summary>
    public IReadOnlyList<string> ClassNames => HeaderValue.ClassNames;

    internal Header HeaderValue { get; }

    internal EnsembleNetwork Network => _network;

    private protected override ModelFormat Format => ModelFormat;

    private protected override void SaveModel(ModelContentWriter writer)
    {
        writer.WriteJson(HeaderStream, HeaderValue);
        for (int i = 0; i < _network.Members.Count; i++)
        {
            writer.WriteWeights(MemberStream(i), _network.Members[i]);
            if (_network.Gates[i] is { } gate)
                writer.WriteWeights(GateStream(i), gate);
        }
        writer.WriteBytes(HistoryStream, JsonSerializer.SerializeToUtf8Bytes(
            TrainingHistories.Select(h => h.ToArray()).ToArray(), HistoryJson));
    }

    private static DynamicMaskEnsembleTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        var reader = ModelContentReader.Open(ctx, ModelFormat);
        var header = reader.ReadJson<Header>(HeaderStream);
        var network = new EnsembleNetwork(header.Gating, header.SpatialGateThreshold, header.SpatialGateTemperature);
        int channels = header.Architecture.FeatureChannels;
        for (int i = 0; i < header.MemberCount; i++)
        {
            var member = new ResNet(header.Architecture);
            reader.ReadWeights(MemberStream(i), member);
            nn.Module<Tensor, Tensor>? gate = i == 0 ? null : header.Gating switch
            {
                EnsembleGating.Learned => new ChannelGate(i * channels, header.GateHiddenUnits, channels, 0, 0),
                EnsembleGating.LearnedSpatial => new SpatialGate(i, 0),
                _ => null,
            };
            if (gate is not null)
                reader.ReadWeights(GateStream(i), gate);
            network.Add(member, gate);
        }
        var histories = JsonSerializer.Deserialize<ResNetEpochReport[][]>(reader.ReadBytes(HistoryStream), HistoryJson) ?? [];
        return new DynamicMaskEnsembleTransformer(env, header, network, histories);
    }

    private static string MemberStream(int member) => $"Member{member}.safetensors";

    private static string GateStream(int member) => $"Gate{member}.safetensors";

    private protected override void MapBatch(BatchBuffers inputs, BatchBuffers outputs, int rowCount)
    {
        var shape = ImageShape;
        var images = inputs[0].ToTensor(rowCount, [shape.Channels, shape.Height, shape.Width], _device);
        var scores = OpenSetScores.Compute(_network.Forward(Normalization.Apply(images)), HeaderValue.MemberWeights);
        if (outputs[0].IsActive) outputs[0].CopyFrom(scores.Probabilities, rowCount);
        if (outputs[1].IsActive) outputs[1].CopyKeysFrom(scores.Probabilities.argmax(1), rowCount);
        if (outputs[2].IsActive) outputs[2].CopyFrom(scores.MaximumSoftmaxProbability, rowCount);
        if (outputs[3].IsActive) outputs[3].CopyFrom(scores.Energy, rowCount);
        if (outputs[4].IsActive) outputs[4].CopyFrom(scores.MutualInformation, rowCount);
        if (outputs[5].IsActive) outputs[5].CopyFrom(scores.MemberAveragedEnergy, rowCount);
        if (outputs[6].IsActive) outputs[6].CopyFrom(scores.GateClosure, rowCount);
        if (outputs[7].IsActive) outputs[7].CopyFrom(scores.Gates, rowCount);
    }
}
