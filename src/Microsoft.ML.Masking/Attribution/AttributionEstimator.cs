using Microsoft.ML.Masking.Core.Segmentation;
using System.Text.Json;
using Microsoft.ML.Data;
using Microsoft.ML.Masking.Attribution.Engine;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Batching;
using Microsoft.ML.Masking.Core.Persistence;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Evaluation;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.LayerMasking.Engine;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Masking.Attribution;

/// <summary>
/// Estimator for <see cref="AttributionTransformer"/>: checks the options when created, the input schema and the model
/// when fitted (a clear error naming the column or option for every bad input), and returns the transformer. Nothing is
/// trained. Create it with <c>mlContext.Transforms.Attribution()</c>.
/// </summary>
public sealed class AttributionEstimator : IEstimator<AttributionTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly AttributionOptions _options;

    internal AttributionEstimator(IHostEnvironment env, AttributionOptions options)
    {
        _env = env ?? throw new ArgumentNullException(nameof(env));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate();
        if (options is GradCamOptions cam && !GradCam.Layers(options.Network!).Contains(cam.LayerName))
            throw new ArgumentException(
                $"The network has no layer '{cam.LayerName}' that Grad-CAM can read; candidates: {string.Join(", ", GradCam.Layers(options.Network!))}.", nameof(GradCamOptions.LayerName));
        if (options is PerturbationAttributionOptions { Scorer: null } p && p.RemovalInEffect == LayerMasking.MaskingMethod.LayerMasking
            || options is GradientAttributionOptions { KeepMaskColumnName: not null })
            using (LayerMaskedNetwork.Create(options.Network!)) { } // names the module layer masking cannot handle
    }

    /// <summary>Checks the input schema and the model, and returns the transformer.</summary>
    public AttributionTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var o = _options;
        var classifier = o.Classifier;
        var scorer = (o as PerturbationAttributionOptions)?.Scorer;
        var shape = classifier?.ImageShape ?? ScorerShape(input.Schema, (PerturbationAttributionOptions)o);
        SchemaChecks.CheckImageVector(input.Schema, o.ImageColumnName, shape, nameof(input));
        string? segmentColumn = null;
        if (o is SegmentAttributionOptions s)
        {
            s.Segmentation.Validate(shape.Height, shape.Width);
            if (s.Segmentation.Kind == SegmentationKind.Column)
            {
                SchemaChecks.CheckFloatVector(input.Schema, s.Segmentation.ColumnName, shape.Pixels, nameof(input));
                segmentColumn = s.Segmentation.ColumnName;
            }
        }
        if (o is GradientAttributionOptions { KeepMaskColumnName: { } keepColumn })
            SchemaChecks.CheckPixelVector(input.Schema, keepColumn, shape, nameof(input));
        if (o is OcclusionOptions occlusion && (occlusion.Window > shape.Height || occlusion.Window > shape.Width))
            throw new ArgumentOutOfRangeException(nameof(OcclusionOptions.Window), occlusion.Window, $"The occlusion window is larger than the {shape.Height}×{shape.Width} image.");
        int classCount = classifier?.RequireClassifierHead("Attribution") ?? CheckScorer(scorer!, (PerturbationAttributionOptions)o, shape);
        if (o.Target.Kind == AttributionTargetKind.FixedClass && o.Target.ClassIndex >= classCount)
            throw new ArgumentOutOfRangeException(nameof(AttributionOptions.Target), o.Target.ClassIndex, $"The target class must lie in [0, {classCount}); the model has {classCount} classes.");
        var labelOrder = o.Target.Kind == AttributionTargetKind.Label ? CheckLabel(input.Schema, o.Target.LabelColumnName!, classCount, classifier) : null;
        var fill = classifier?.Normalization ?? ((PerturbationAttributionOptions)o).FillNormalizationFor(shape.Channels);
        fill.EnsureChannels(shape.Channels);
        if (o is GradCamOptions cam)
            new GradCam(classifier!, cam.LayerName, device: TorchSharp.torch.CPU).CheckNetwork(shape.Channels, shape.Height, shape.Width);
        // A detached copy: later changes to the caller's options object do not reach the fitted transformer. The
        // removal in effect is written out, since the saved options no longer know whether a Scorer was given.
        var copy = AttributionMethods.Clone(o);
        copy.TargetClassifier = o.TargetClassifier;
        if (copy is PerturbationAttributionOptions perturbation)
            perturbation.Removal = ((PerturbationAttributionOptions)o).RemovalInEffect;
        var settings = new AttributionTransformer.Settings(
            o.MethodName, JsonSerializer.Serialize(copy, o.GetType(), ModelJson.Options), shape, classCount,
            fill.Mean.ToArray(), fill.StandardDeviation.ToArray(), scorer is not null,
            segmentColumn, AttributionMethods.RowValueColumn(o), AttributionMethods.IsPixelLevel(o) ? shape.Channels : 1, labelOrder);
        return new AttributionTransformer(_env, settings, copy, classifier, scorer);
    }

    /// <summary>Checks the input columns' kinds and describes the output columns.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaChecks.CheckFloatVector(inputSchema, _options.ImageColumnName);
        if (_options is SegmentAttributionOptions { Segmentation.Kind: SegmentationKind.Column } s)
            SchemaChecks.CheckFloatVector(inputSchema, s.Segmentation.ColumnName);
        if (_options is GradientAttributionOptions { KeepMaskColumnName: { } keepColumn })
            SchemaChecks.CheckFloatVector(inputSchema, keepColumn);
        if (_options.Target.Kind == AttributionTargetKind.Label && !inputSchema.TryFindColumn(_options.Target.LabelColumnName!, out _))
            throw SchemaChecks.NotFound(nameof(inputSchema), _options.Target.LabelColumnName!);
        var outputs = new List<SchemaShape.Column> { SchemaShapeColumns.FloatVector(_options.OutputColumnName) };
        if (AttributionMethods.RowValueColumn(_options) is { } rowValue)
            outputs.Add(SchemaShapeColumns.Float(rowValue));
        return SchemaShapeColumns.Append(inputSchema, outputs);
    }

    /// <summary>
    /// Checks the label column of a label target — a key with one value per class, or a 0-based class number — and
    /// returns the classifier's class of each key when the key values name the classes in another order.
    /// </summary>
    private static int[]? CheckLabel(DataViewSchema schema, string labelColumn, int classCount, ImageClassifier? classifier)
    {
        BatchInputBinding.Bind(schema, [BatchInputColumn.Label(labelColumn, classCount)], "input");
        return classifier?.LabelClassOrder(schema, labelColumn, nameof(AttributionOptions.Target));
    }

    /// <summary>The layout a scorer transformer reads: the one given, or the square of 1 or 3 channels that fits the image column.</summary>
    private static ImageShape ScorerShape(DataViewSchema schema, PerturbationAttributionOptions o)
    {
        if (o.ImageShape is { } given)
            return given;
        var column = schema.GetColumnOrNull(o.ImageColumnName) ?? throw SchemaChecks.NotFound("input", o.ImageColumnName);
        if (column.Type is not VectorDataViewType { ItemType: var item, Size: var size } || item != NumberDataViewType.Single || size == 0)
            throw SchemaChecks.Mismatch("input", o.ImageColumnName, "known-size vector of Single", $"{column.Type}");
        return ImageShape.InferSquare(size) ?? throw new ArgumentException(
            $"Column '{o.ImageColumnName}' holds {size} values, which is not a square image of 1 or 3 channels; set {o.MethodName}Options.ImageShape.", nameof(PerturbationAttributionOptions.ImageShape));
    }

    /// <summary>Checks that the scorer reads only the image column, depends on it and writes a float score vector; returns the class count.</summary>
    private static int CheckScorer(ITransformer scorer, PerturbationAttributionOptions o, ImageShape shape)
    {
        var rows = TransformerScorer.RowSchema(o.ImageColumnName, shape);
        DataViewSchema output;
        try
        {
            output = scorer.GetOutputSchema(rows);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new ArgumentException($"The {nameof(o.Scorer)} transformer must score rows that hold only the image column '{o.ImageColumnName}' ({shape}); it refused them: {e.Message}", nameof(o.Scorer), e);
        }
        var score = output.GetColumnOrNull(o.ScoreColumnName)
            ?? throw new ArgumentException($"The {nameof(o.Scorer)} transformer writes no column '{o.ScoreColumnName}'; set {nameof(o.ScoreColumnName)}.", nameof(o.ScoreColumnName));
        if (score.Type is not VectorDataViewType { ItemType: var item, Size: var classes } || item != NumberDataViewType.Single || classes == 0)
            throw new ArgumentException($"Schema mismatch for score column '{o.ScoreColumnName}': expected known-size vector of Single, got {score.Type}.", nameof(o.ScoreColumnName));
        if (scorer.IsRowToRowMapper)
        {
            var mapper = scorer.GetRowToRowMapper(rows);
            var needed = mapper.GetDependencies([mapper.OutputSchema[o.ScoreColumnName]]);
            if (!needed.Any(c => c.Name == o.ImageColumnName))
                throw new ArgumentException($"The {nameof(o.Scorer)} transformer's column '{o.ScoreColumnName}' does not depend on the image column '{o.ImageColumnName}', so removing pixels cannot change it.", nameof(o.Scorer));
        }
        return classes;
    }
}
