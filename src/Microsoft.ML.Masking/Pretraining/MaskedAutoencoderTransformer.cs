using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Batching;
using Microsoft.ML.Masking.Core.Persistence;
using Microsoft.ML.Masking.Core.Randomness;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.Pretraining;
using Microsoft.ML.Masking.Pretraining.Engine;
using Microsoft.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

[assembly: LoadableClass(typeof(MaskedAutoencoderTransformer), null, typeof(SignatureLoadModel),
    "Masked autoencoder transformer", MaskedAutoencoderTransformer.LoaderSignature)]

namespace Microsoft.ML.Masking.Pretraining;

/// <summary>
/// A pre-trained masked-autoencoder encoder as an ML.NET transformer: reads a planar float image column and adds an
/// embedding column (the encoder over all patches, CLS token or mean of patch tokens), so that any ML.NET trainer can
/// follow it in a pipeline. Optionally adds the masking network's score map, a reconstruction and the mask behind it,
/// for pictures. Maps batches of rows per forward pass, lazily; saves and loads with the pipeline
/// (<c>mlContext.Model.Save/Load</c>), weights as safetensors in the model.zip.
/// </summary>
/// <remarks>
/// Reconstructions are deterministic: each row's mask is drawn from a generator seeded by the model's seed and a hash
/// of the row's pixels, so a row gets the same mask in any batch, in any process. For adversarial models, the share
/// <see cref="MaskedAutoencoderPretrainer.Options.MaxAdversarialShare"/> of the removed patches is the masking network's pick.
/// </remarks>
public sealed class MaskedAutoencoderTransformer : BatchedTorchTransformer
{
    internal const string LoaderSignature = "MaskedAutoencoder";
    private static readonly ModelFormat ModelFormat = new("MAEPRETR", LoaderSignature, typeof(MaskedAutoencoderTransformer));
    private const string HeaderStream = "Header.json";
    private const string WeightsStream = "Network.safetensors";
    private const string HistoryStream = "TrainingHistory.json";

    private static readonly JsonSerializerOptions HistoryJson = new(ModelJson.Options)
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private readonly Device _device;
    private readonly int _scoreMapOutput = -1, _reconstructionOutput = -1, _maskOutput = -1;

    /// <summary>What the model.zip entry stores besides the weights.</summary>
    internal sealed record Header(
        string ImageColumnName, ImageShape ImageShape, string EmbeddingColumnName, string? ScoreMapColumnName,
        string? ReconstructionColumnName, string? MaskColumnName, EmbeddingPooling Pooling, MaskedAutoencoderArchitecture Architecture,
        MaskingSettings Masking, float[] ChannelMean, float[] ChannelStandardDeviation, int BatchSize, int Seed);

    internal MaskedAutoencoderTransformer(IHostEnvironment env, Header header, MaskedPretrainingNetwork network, IReadOnlyList<PretrainingEpochReport> history)
        : base(env, nameof(MaskedAutoencoderTransformer), [new BatchInputColumn(header.ImageColumnName, header.ImageShape.Size)], OutputColumns(header), header.BatchSize)
    {
        HeaderValue = header;
        Network = network;
        Normalization = new ChannelNormalization(header.ChannelMean, header.ChannelStandardDeviation);
        TrainingHistory = history.ToArray();
        int next = 1;
        if (header.ScoreMapColumnName is not null) _scoreMapOutput = next++;
        if (header.ReconstructionColumnName is not null) _reconstructionOutput = next++;
        if (header.MaskColumnName is not null) _maskOutput = next;
        _device = HostDevice.Resolve(env);
        Network.to(_device);
        Network.eval();
    }

    /// <summary>The image layout read.</summary>
    public ImageShape ImageShape => HeaderValue.ImageShape;

    /// <summary>The image column read.</summary>
    public string ImageColumnName => HeaderValue.ImageColumnName;

    /// <summary>The embedding column written.</summary>
    public string EmbeddingColumnName => HeaderValue.EmbeddingColumnName;

    /// <summary>Floats per embedding: the encoder width.</summary>
    public int EmbeddingSize => HeaderValue.Architecture.EncoderWidth;

    /// <summary>The autoencoder's sizes.</summary>
    public MaskedAutoencoderArchitecture Architecture => HeaderValue.Architecture;

    /// <summary>Random or adversarial masking, as trained.</summary>
    public MaskingStrategy Masking => HeaderValue.Masking.Masking;

    /// <summary>The per-channel normalisation applied before the networks.</summary>
    public ChannelNormalization Normalization { get; }

    /// <summary>One report per pre-training epoch (kept in the saved model).</summary>
    public IReadOnlyList<PretrainingEpochReport> TrainingHistory { get; }

    internal MaskedPretrainingNetwork Network { get; }

    internal Header HeaderValue { get; }

    private protected override ModelFormat Format => ModelFormat;

    /// <summary>
    /// Measures the masks this model draws on <paramref name="data"/> (the reconstruction masks: α at its maximum for
    /// adversarial models) and the reconstruction errors under them.
    /// </summary>
    /// <param name="data">Rows with the image column.</param>
    /// <param name="objectMaskColumnName">Optional per-pixel object-mask column (1 on the object), e.g. the shapes data's "ObjectMask".</param>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type or size.</exception>
    public MaskDiagnostics Diagnose(IDataView data, string? objectMaskColumnName = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        var columns = new List<BatchInputColumn> { BatchInputColumn.Image(ImageColumnName, ImageShape, BatchValueRules.Finite) };
        if (objectMaskColumnName is not null)
            columns.Add(BatchInputColumn.PerPixel(objectMaskColumnName, "object masks", BatchValueRules.Finite));
        var reader = new DataViewBatchReader(data, columns, nameof(data), "data");
        var accumulator = new MaskDiagnosticsAccumulator(Architecture);
        foreach (var batch in reader.Batches(BatchSize))
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var images = Normalization.Apply(batch.Tensor(ImageColumnName, _device).reshape(batch.Count, ImageShape.Channels, ImageShape.Height, ImageShape.Width));
            var buffer = batch[ImageColumnName];
            var (mask, _, errors) = Reconstruct(images, buffer, batch.Count);
            var objects = objectMaskColumnName is null ? null : batch.Tensor(objectMaskColumnName, _device);
            accumulator.Add(mask, errors, objects, InferenceShare);
        }
        return accumulator.Result();
    }

    private double InferenceShare => Masking == MaskingStrategy.Adversarial ? HeaderValue.Masking.MaxAdversarialShare : 0;

    private protected override void SaveModel(ModelContentWriter writer)
    {
        writer.WriteJson(HeaderStream, HeaderValue);
        writer.WriteWeights(WeightsStream, Network);
        writer.WriteBytes(HistoryStream, JsonSerializer.SerializeToUtf8Bytes(TrainingHistory.ToArray(), HistoryJson));
    }

    private static MaskedAutoencoderTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        var reader = ModelContentReader.Open(ctx, ModelFormat);
        var header = reader.ReadJson<Header>(HeaderStream);
        var network = new MaskedPretrainingNetwork(header.Architecture, header.Masking.Masking == MaskingStrategy.Adversarial,
            header.Masking.MaskingNetworkChannels, header.Seed);
        reader.ReadWeights(WeightsStream, network);
        var history = JsonSerializer.Deserialize<PretrainingEpochReport[]>(reader.ReadBytes(HistoryStream), HistoryJson) ?? [];
        return new MaskedAutoencoderTransformer(env, header, network, history);
    }

    private static BatchOutputColumn[] OutputColumns(Header header)
    {
        var outputs = new List<BatchOutputColumn> { BatchOutputColumn.FloatVector(header.EmbeddingColumnName, header.Architecture.EncoderWidth) };
        if (header.ScoreMapColumnName is { } scores) outputs.Add(BatchOutputColumn.FloatVector(scores, header.ImageShape.Pixels));
        if (header.ReconstructionColumnName is { } reconstruction) outputs.Add(BatchOutputColumn.FloatVector(reconstruction, header.ImageShape.Size));
        if (header.MaskColumnName is { } mask) outputs.Add(BatchOutputColumn.FloatVector(mask, header.ImageShape.Pixels));
        return outputs.ToArray();
    }

    private protected override void MapBatch(BatchBuffers inputs, BatchBuffers outputs, int rowCount)
    {
        var shape = ImageShape;
        var images = Normalization.Apply(inputs[0].ToTensor(rowCount, [shape.Channels, shape.Height, shape.Width], _device));
        if (outputs[0].IsActive)
            outputs[0].CopyFrom(Network.Autoencoder.Embed(images, HeaderValue.Pooling), rowCount);
        if (_scoreMapOutput >= 0 && outputs[_scoreMapOutput].IsActive)
            outputs[_scoreMapOutput].CopyFrom(Network.MaskingNetwork!.forward(images), rowCount);
        bool reconstruction = _reconstructionOutput >= 0 && outputs[_reconstructionOutput].IsActive;
        bool mask = _maskOutput >= 0 && outputs[_maskOutput].IsActive;
        if (!reconstruction && !mask)
            return;
        var (tokenMask, pixels, _) = Reconstruct(images, inputs[0], rowCount);
        if (reconstruction)
            outputs[_reconstructionOutput].CopyFrom(pixels, rowCount);
        if (mask)
            outputs[_maskOutput].CopyFrom(MaskPicture(tokenMask), rowCount);
    }

    /// <summary>The rows' masks, reconstructions in input pixel scale [N, C, H, W], and per-patch errors [N, L].</summary>
    private (TokenMask Mask, Tensor Pixels, Tensor Errors) Reconstruct(Tensor images, BatchColumnBuffer raw, int rowCount)
    {
        var a = Architecture;
        var settings = HeaderValue.Masking;
        var (uniform, gumbel) = RowNoise(raw, rowCount, a.PatchCount);
        int keep = settings.KeepCount(a.PatchCount);
        var scores = Network.PatchScores(images);
        var mask = scores is null
            ? TokenMask.FromNoise(uniform, keep)
            : MaskSelection.Adversarial(scores, InferenceShare, keep, settings, uniform, gumbel);
        var mae = Network.Autoencoder;
        var prediction = mae.Decode(mae.Encode(images, mask), mask);
        var target = mae.Targets(images, settings.NormalizePixelTargets);
        var errors = MaskedAutoencoder.PatchErrors(prediction, target);
        var patches = PatchLayout.Patchify(images, a.PatchSize);
        if (settings.NormalizePixelTargets)
        {
            // Undo the per-patch standardisation with the true patch's statistics, as the reference's visualisation does.
            var mean = patches.mean([-1], keepdim: true);
            var deviation = patches.var(-1, unbiased: true, keepdim: true).Plus(1e-6).sqrt();
            prediction = prediction.mul(deviation).Plus(mean);
        }
        var removed = mask.Removed.unsqueeze(-1);
        var mixed = patches.mul(removed.OneMinus()).Plus(prediction.mul(removed));
        var normalized = PatchLayout.Unpatchify(mixed, a.PatchSize, a.Channels, a.PatchRows, a.PatchColumns);
        var mean0 = tensor(Normalization.Mean.ToArray(), device: images.device).view(1, -1, 1, 1);
        var std0 = tensor(Normalization.StandardDeviation.ToArray(), device: images.device).view(1, -1, 1, 1);
        return (mask, normalized.mul(std0).Plus(mean0), errors);
    }

    /// <summary>Per-row uniform noise [N, L] twice (random order, Gumbel), each row from a generator seeded by the seed and the row's pixels.</summary>
    private (Tensor Uniform, Tensor Gumbel) RowNoise(BatchColumnBuffer raw, int rowCount, int patches)
    {
        var uniform = new Tensor[rowCount];
        var gumbel = new Tensor[rowCount];
        for (int r = 0; r < rowCount; r++)
        {
            ulong hash = Fnv1a(MemoryMarshal.AsBytes(raw.Row(r)));
            using var generator = SeedMixer.TorchGenerator(HeaderValue.Seed, SeedStream.MaskedAutoencoderMask, unchecked((long)hash));
            uniform[r] = rand([1, patches], generator: generator);
            gumbel[r] = rand([1, patches], generator: generator);
        }
        return (cat(uniform, 0).to(_device), cat(gumbel, 0).to(_device));
    }

    /// <summary>Per-pixel mask picture [N, H·W]: 0 visible, 1 removed at random, 2 picked by the masking network.</summary>
    private Tensor MaskPicture(TokenMask mask)
    {
        var a = Architecture;
        long n = mask.Removed.shape[0];
        var perPatch = mask.Removed.Plus(mask.Adversarial).reshape(n, a.PatchRows, 1, a.PatchColumns, 1);
        return perPatch.expand(n, a.PatchRows, a.PatchSize, a.PatchColumns, a.PatchSize).reshape(n, (long)a.ImageHeight * a.ImageWidth);
    }

    private static ulong Fnv1a(ReadOnlySpan<byte> bytes)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in bytes)
            hash = (hash ^ b) * 1099511628211UL;
        return hash;
    }
}
