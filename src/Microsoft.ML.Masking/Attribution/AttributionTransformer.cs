using Microsoft.ML.Masking.Core.Segmentation;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Masking.Attribution;
using Microsoft.ML.Masking.Attribution.Engine;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Batching;
using Microsoft.ML.Masking.Core.Persistence;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Evaluation;
using Microsoft.ML.Masking.Evaluation.Engine;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

[assembly: LoadableClass(typeof(AttributionTransformer), null, typeof(SignatureLoadModel), "Attribution", AttributionTransformer.LoaderSignature)]

namespace Microsoft.ML.Masking.Attribution;

/// <summary>
/// Adds an attribution map per row — H×W, or C×H×W for pixel-level gradient methods — explaining the model's score for
/// the target class, plus a per-row diagnostic for some methods (Integrated Gradients' completeness delta, LIME's
/// surrogate R²). Lazy and batched: <see cref="BatchedTorchTransformer.BatchSize"/> rows per kernel call, and inside
/// it every forward pass holds at most the options' internal batch size of images. Saves with the pipeline.
/// Create it with <c>mlContext.Transforms.Attribution()</c>.
/// </summary>
public sealed class AttributionTransformer : BatchedTorchTransformer, IDisposable
{
    internal const string LoaderSignature = "AttributionTransform";
    private static readonly ModelFormat ModelFormat = new("ATTRIBUT", LoaderSignature, typeof(AttributionTransformer));
    private const string HeaderStream = "Header.json";
    private const string WeightsStream = "Network.safetensors";
    private const string ScorerFolder = "Scorer";

    private readonly Settings _settings;
    private readonly AttributionOptions _options;
    private readonly ITransformer? _scorerModel;
    private readonly TorchClassifier? _torch;
    private readonly TorchClassifier? _targetTorch;
    private readonly IPerturbationScorer? _scorer;
    private readonly IAttributionMethod _method;
    private readonly Segmenter? _segmenter;
    private readonly Device _device;

    /// <summary>What is saved besides the weights and the nested scorer.</summary>
    /// <remarks>FillMean and FillStandardDeviation are the classifier's normalisation, or a scorer's fill statistics.
    /// LabelClassOrder maps a label target's keys (0-based) to the classifier's classes when their names come in another
    /// order; null when keys are classes by position (absent from models saved before label targets existed).</remarks>
    internal sealed record Settings(
        string Method, string Options, ImageShape ImageShape, int ClassCount, float[] FillMean, float[] FillStandardDeviation,
        bool HasScorer, string? SegmentColumnName, string? RowValueColumnName, int OutputChannels, int[]? LabelClassOrder = null);

    /// <summary>What Header.json holds: the settings and, for a TorchSharp model, the one saved form of the classifier.</summary>
    internal sealed record SavedHeader(Settings Settings, ImageClassifierHeader? Classifier);

    internal AttributionTransformer(IHostEnvironment env, Settings settings, AttributionOptions options, ImageClassifier? classifier, ITransformer? scorer)
        : base(env, nameof(AttributionTransformer), InputColumns(settings, options), OutputColumns(settings, options), options.BatchSize)
    {
        _settings = settings;
        _options = options;
        // The classifier's own normalisation (channel order and mean image included); a scorer's fill statistics otherwise.
        var normalization = classifier?.Normalization ?? new ChannelNormalization(settings.FillMean, settings.FillStandardDeviation);
        Classifier = classifier;
        _device = classifier?.ResolveDevice(env) ?? HostDevice.Resolve(env);
        if (classifier is not null)
        {
            var network = classifier.Network;
            network.to(_device);
            network.eval();
            _torch = new TorchClassifier(classifier, _device, layerMasking: KeepColumn(options) is not null);
        }
        _targetTorch = _torch;
        if (options.TargetClassifier is { } target)
        {
            target.Network.to(_device);
            target.Network.eval();
            _targetTorch = new TorchClassifier(target, _device, layerMasking: KeepColumn(options) is not null);
        }
        _scorerModel = scorer;
        if (options is PerturbationAttributionOptions p)
        {
            _scorer = scorer is not null
                ? new TransformerScorer(scorer, options.ImageColumnName, p.ScoreColumnName, settings.ImageShape, settings.ClassCount, normalization, p.RemovalInEffect, p.BlurSigma)
                : new MaskedNetworkScorer(classifier!.Network, settings.ClassCount, p.RemovalInEffect, normalization, p.Output, p.BlurSigma, _device);
        }
        _method = AttributionMethods.Create(options, classifier, _device, _scorer);
        if (options is SegmentAttributionOptions s)
            _segmenter = new Segmenter(s.Segmentation, settings.ImageShape);
    }

    /// <summary>The method's name, e.g. "IntegratedGradients".</summary>
    public string Method => _settings.Method;

    /// <summary>The explained TorchSharp classifier (its network shared with whoever supplied it), or null when a transformer is explained.</summary>
    public ImageClassifier? Classifier { get; }

    /// <summary>The image layout.</summary>
    public ImageShape ImageShape => _settings.ImageShape;

    /// <summary>Channels of each attribution map (1, or the image's channels for unreduced pixel-level gradients).</summary>
    public int OutputChannels => _settings.OutputChannels;

    /// <summary>The attribution column written.</summary>
    public string OutputColumnName => _options.OutputColumnName;

    /// <summary>The per-row diagnostic column written, or null.</summary>
    public string? RowValueColumnName => _settings.RowValueColumnName;

    private static BatchInputColumn[] InputColumns(Settings s, AttributionOptions o)
    {
        var columns = new List<BatchInputColumn> { new(o.ImageColumnName, s.ImageShape.Size) };
        if (s.SegmentColumnName is not null)
            columns.Add(new BatchInputColumn(s.SegmentColumnName, s.ImageShape.Pixels));
        if (o.Target.Kind == AttributionTargetKind.Label)
            columns.Add(BatchInputColumn.Label(o.Target.LabelColumnName!, s.ClassCount));
        if (KeepColumn(o) is { } keep)
            columns.Add(BatchInputColumn.PerPixel(keep, "keep-mask values", BatchValueRules.Binary, s.ImageShape));
        return columns.ToArray();
    }

    /// <summary>The keep-mask column of layer-masked gradients, or null.</summary>
    private static string? KeepColumn(AttributionOptions o) => (o as GradientAttributionOptions)?.KeepMaskColumnName;

    /// <summary>The batch's keep-masks [rows, H, W], or null without a keep-mask column.</summary>
    private Tensor? Keep(BatchBuffers inputs, int rowCount) =>
        KeepColumn(_options) is { } column ? inputs[column].ToTensor(rowCount, [_settings.ImageShape.Height, _settings.ImageShape.Width]) : null;

    private static BatchOutputColumn[] OutputColumns(Settings s, AttributionOptions o)
    {
        var columns = new List<BatchOutputColumn> { BatchOutputColumn.FloatVector(o.OutputColumnName, s.OutputChannels * s.ImageShape.Pixels) };
        if (s.RowValueColumnName is not null)
            columns.Add(BatchOutputColumn.Float(s.RowValueColumnName));
        return columns.ToArray();
    }

    private protected override ModelFormat Format => ModelFormat;

    private protected override void SaveModel(ModelContentWriter writer)
    {
        writer.WriteJson(HeaderStream, new SavedHeader(_settings, Classifier?.ToHeader()));
        if (Classifier is not null)
            writer.WriteWeights(WeightsStream, Classifier.Network);
        if (_scorerModel is not null)
            writer.WriteModel(ScorerFolder, _scorerModel);
    }

    private static AttributionTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        var reader = ModelContentReader.Open(ctx, ModelFormat);
        var header = reader.ReadJson<SavedHeader>(HeaderStream);
        var settings = header.Settings;
        if (!AttributionMethods.OptionTypes.TryGetValue(settings.Method, out var type))
            throw new FormatException($"The model names an unknown attribution method '{settings.Method}'.");
        var options = (AttributionOptions)(JsonSerializer.Deserialize(settings.Options, type, ModelJson.Options)
            ?? throw new FormatException("The attribution options are JSON null."));
        ImageClassifier? classifier = null;
        if (header.Classifier is not null)
        {
            var network = header.Classifier.BuildNetwork();
            reader.ReadWeights(WeightsStream, network);
            network.eval();
            classifier = ImageClassifier.FromHeader(header.Classifier, network);
        }
        var scorer = settings.HasScorer ? reader.ReadModel(env, ScorerFolder) : null;
        return new AttributionTransformer(env, settings, options, classifier, scorer);
    }

    private protected override void MapBatch(BatchBuffers inputs, BatchBuffers outputs, int rowCount)
    {
        var attribution = outputs[0];
        var rowValue = _settings.RowValueColumnName is null ? null : outputs[1];
        if (!attribution.IsActive && rowValue is not { IsActive: true })
            return;
        var result = _method.Attribute(Prepare(inputs, rowCount));
        if (attribution.IsActive)
            attribution.CopyFrom(Reduce(result.Attributions), rowCount);
        if (rowValue is { IsActive: true })
            rowValue.CopyFrom(tensor(result.RowValues ?? new float[rowCount]), rowCount);
    }

    /// <summary>
    /// For max-sensitivity: the attributions of a batch's rows [rows, channels, H, W] and of <paramref name="samples"/>
    /// copies of each row with uniform noise in [−<paramref name="radius"/>, <paramref name="radius"/>] added to every
    /// pixel value [rows × samples, …], all explained for the rows' own targets (as Quantus re-explains for the same
    /// label). The noise is drawn per (seed, row, sample), and every copy of a batch goes to the method at once (it
    /// evaluates them in passes of its internal batch size). The copies are new images — segmented anew, with a content
    /// id of their own for the method's draws — unless <paramref name="fixedSegments"/>: then each keeps its row's
    /// segmentation and row id, so only the pixels differ.
    /// </summary>
    internal (Tensor Original, Tensor Perturbed) ExplainPerturbed(BatchBuffers inputs, int rowCount, int samples, double radius, int seed, bool fixedSegments = false)
    {
        var g = _settings.ImageShape;
        var batch = Prepare(inputs, rowCount);
        var (pixels, targets, rowIds, segments, keep) = (batch.Pixels, batch.Targets, batch.RowIds, batch.Segments, batch.Keep);
        var original = Reduce(_method.Attribute(batch).Attributions);
        var copies = new Tensor[rowCount * samples];
        var copyTargets = new long[rowCount * samples];
        var copyIds = new long[rowCount * samples];
        var copySegments = segments is null ? null : new SegmentMap[rowCount * samples];
        for (int i = 0; i < rowCount; i++)
            for (int k = 0; k < samples; k++)
            {
                int c = i * samples + k;
                using var generator = AttributionSeeds.For(seed, AttributionSeeds.MaxSensitivity, rowIds[i], k);
                var noise = rand(new long[] { 1, g.Channels, g.Height, g.Width }, generator: generator).Times(2 * radius).Plus(-radius);
                copies[c] = pixels.narrow(0, i, 1).Plus(noise);
                copyTargets[c] = targets[i];
                copyIds[c] = fixedSegments ? rowIds[i] : unchecked((long)Core.Randomness.SeedMixer.ForRow(seed, AttributionSeeds.MaxSensitivity, rowIds[i], k, 1));
                if (copySegments is not null)
                    copySegments[c] = fixedSegments ? segments![i] : _segmenter!.Segment(copies[c].data<float>().ToArray(), _segmenter.NeedsSegmentColumn ? inputs[1].Row(i) : default, copyIds[c]);
            }
        var perturbed = Reduce(_method.Attribute(new AttributionBatch(cat(copies, 0), copyTargets, copyIds, copySegments, keep?.repeat_interleave(samples, 0))).Attributions);
        return (original, perturbed);
    }

    /// <summary>
    /// What the method explains of a batch: its pixels (checked finite), a content id per row (the seed of its draws),
    /// the keep-masks of layer-masked gradients, the targets and the segmentations.
    /// </summary>
    private AttributionBatch Prepare(BatchBuffers inputs, int rowCount)
    {
        var g = _settings.ImageShape;
        var pixels = inputs[0].ToTensor(rowCount, [g.Channels, g.Height, g.Width]);
        if (!isfinite(pixels).all().item<bool>())
            throw new InvalidOperationException($"Column '{_options.ImageColumnName}' holds NaN or infinite pixel values; attributions need finite pixels.");
        var rowIds = new long[rowCount];
        for (int i = 0; i < rowCount; i++)
            rowIds[i] = ContentId(inputs[0].Row(i));
        var keep = Keep(inputs, rowCount);
        var targets = Targets(inputs, pixels, keep);
        var segments = _method.NeedsSegments ? Segments(inputs, rowCount) : null;
        return new AttributionBatch(pixels, targets, rowIds, segments, keep);
    }

    private long[] Targets(BatchBuffers inputs, Tensor pixels, Tensor? keep)
    {
        int rows = (int)pixels.shape[0];
        if (_options.Target.Kind == AttributionTargetKind.FixedClass)
            return Enumerable.Repeat((long)_options.Target.ClassIndex, rows).ToArray();
        if (_options.Target.Kind == AttributionTargetKind.Label)
        {
            var labels = inputs[_options.Target.LabelColumnName!].ToClassIndices(rows).data<long>().ToArray();
            if (_settings.LabelClassOrder is { } order)
                for (int i = 0; i < rows; i++)
                    labels[i] = order[labels[i]];
            return labels;
        }
        Tensor scores;
        if (_targetTorch is not null)
        {
            scores = zeros(rows, _settings.ClassCount);
            for (int first = 0; first < rows; first += _options.InternalBatchSize)
            {
                int length = Math.Min(_options.InternalBatchSize, rows - first);
                scores.narrow(0, first, length).copy_(_targetTorch.Scores(pixels.narrow(0, first, length).to(_device), ScoreKind.Logit,
                    keep?.narrow(0, first, length).to(_device)).cpu());
            }
        }
        else
        {
            // Nothing is removed, so no noise is drawn.
            scores = _scorer!.Scores(pixels, ones(rows, pixels.shape[2], pixels.shape[3]), PerturbationNoise.ForRows(_options.Seed, new long[rows]));
        }
        return scores.argmax(1).cpu().data<long>().ToArray();
    }

    private SegmentMap[] Segments(BatchBuffers inputs, int rowCount)
    {
        var maps = new SegmentMap[rowCount];
        for (int i = 0; i < rowCount; i++)
            maps[i] = _segmenter!.Segment(inputs[0].Row(i), _segmenter.NeedsSegmentColumn ? inputs[1].Row(i) : default, inputs.FirstRow + i);
        return maps;
    }

    private Tensor Reduce(Tensor attributions)
    {
        if (_options is not GradientAttributionOptions g || attributions.shape[1] == 1)
            return attributions;
        return g.ChannelReduction switch
        {
            ChannelReduction.None => attributions,
            ChannelReduction.Sum => attributions.sum(1, keepdim: true),
            ChannelReduction.AbsoluteSum => attributions.abs().sum(1, keepdim: true),
            _ => attributions.abs().amax([1], keepdim: true),
        };
    }

    /// <summary>A 64-bit hash of the row's pixels: the row id of every random draw, so draws follow the image, not its batch or position.</summary>
    private static long ContentId(ReadOnlySpan<float> values)
    {
        ulong hash = 0xCBF29CE484222325UL;
        foreach (float v in values)
        {
            hash ^= BitConverter.SingleToUInt32Bits(v);
            hash *= 0x100000001B3UL;
        }
        return unchecked((long)(hash ^ (hash >> 29)));
    }

    /// <summary>Releases the derived tensors of the scorer (the networks themselves are not disposed).</summary>
    public void Dispose() => (_scorer as IDisposable)?.Dispose();
}
