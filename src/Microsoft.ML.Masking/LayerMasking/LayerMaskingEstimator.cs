using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Batching;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.LayerMasking.Engine;
using Microsoft.ML.Runtime;
using TorchSharp;

namespace Microsoft.ML.Masking.LayerMasking;

/// <summary>
/// Estimator for <see cref="LayerMaskingTransformer"/>: checks the options, the input columns against the
/// classifier's image shape and the network (every module must be one layer masking supports), and returns the
/// transformer. Nothing is trained. Create it with <see cref="LayerMaskingCatalog.LayerMask(TransformsCatalog, LayerMaskingOptions)"/>.
/// </summary>
public sealed class LayerMaskingEstimator : IEstimator<LayerMaskingTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly LayerMaskingOptions _options;
    private readonly ImageClassifier _classifier;

    internal LayerMaskingEstimator(IHostEnvironment env, LayerMaskingOptions options)
    {
        _env = env ?? throw new ArgumentNullException(nameof(env));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _classifier = Validate(options);
    }

    /// <summary>
    /// Checks the input columns and the first batch of rows, and fits: checks the network can be layer-masked and
    /// orders the outputs like the label column's key values when the input has one.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing, or its type, size or dimensions contradict the classifier's image shape (the message names the column).</exception>
    /// <exception cref="ArgumentException">The label column's key values are not the classifier's class names.</exception>
    /// <exception cref="InvalidOperationException">A row of the first batch has a mask value other than 0 and 1 or a NaN/infinite pixel the method reads (the message names the column, the row and, where the data has one, the image path).</exception>
    /// <exception cref="NotSupportedException">The network has a module layer masking cannot handle (the message names it).</exception>
    public LayerMaskingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var o = _options;
        SchemaChecks.CheckImageVector(input.Schema, o.ImageColumnName, _classifier.ImageShape);
        SchemaChecks.CheckPixelVector(input.Schema, o.MaskColumnName, _classifier.ImageShape);
        var classOrder = ClassOrder(input.Schema);
        // Fails here, naming the module, rather than on the first batch.
        using (LayerMaskedNetwork.Create(_classifier.Network)) { }
        CheckFirstBatch(input);
        var settings = new LayerMaskingTransformer.Settings(
            o.ImageColumnName, o.MaskColumnName, o.ScoreColumnName, o.FeaturesColumnName, o.Method,
            o.BlurSigma, o.NoiseSeed, o.OutputLogits, o.BatchSize, o.MaskMarksRemoved, o.PredictedLabelColumnName, classOrder);
        return new LayerMaskingTransformer(_env, settings, _classifier);
    }

    /// <summary>Checks that the image and mask columns are float vectors and describes the output columns.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or is not a known-size vector of Single (the message names it).</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaChecks.CheckFloatVector(inputSchema, _options.ImageColumnName);
        SchemaChecks.CheckFloatVector(inputSchema, _options.MaskColumnName);
        var outputs = new List<SchemaShape.Column> { SchemaShapeColumns.FloatVector(_options.ScoreColumnName) };
        if (_options.FeaturesColumnName is not null)
            outputs.Add(SchemaShapeColumns.FloatVector(_options.FeaturesColumnName));
        if (_classifier.ClassNames is not null)
            outputs.Add(SchemaShapeColumns.Key(_options.PredictedLabelColumnName));
        return SchemaShapeColumns.Append(inputSchema, outputs);
    }

    /// <summary>
    /// The classifier's class index of each of the label's key values, when the input has a key-typed label column
    /// whose key values name the classes in another order; null when the order already agrees or cannot be known.
    /// ML.NET's multiclass evaluation compares keys by position, so the outputs must follow the label's order.
    /// </summary>
    private int[]? ClassOrder(DataViewSchema schema) =>
        _options.LabelColumnName is not { } labelName ? null : _classifier.LabelClassOrder(schema, labelName, nameof(LayerMaskingOptions.LabelColumnName),
            $"Map the label to the classifier's class names, or set {nameof(LayerMaskingOptions)}.{nameof(LayerMaskingOptions.LabelColumnName)} = null to skip this check.");

    /// <summary>
    /// Reads the first batch and runs the checks every batch gets when scored, at Fit, naming the row and, where the
    /// data has a text column whose name contains "Path", the image; warns through the ML.NET log when the pixels do
    /// not fit the classifier's normalization (0–255 pixels with a 0–1 normalization).
    /// </summary>
    private void CheckFirstBatch(IDataView input)
    {
        var o = _options;
        var shape = _classifier.ImageShape;
        var reader = new DataViewBatchReader(input,
            [BatchInputColumn.Image(o.ImageColumnName, shape), BatchInputColumn.PerPixel(o.MaskColumnName, "masks", shape: shape)], "inputSchema");
        var batch = reader.Batches(o.BatchSize).FirstOrDefault();
        if (batch is null)
            return;
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var pixels = batch.Tensor(o.ImageColumnName);
        var mask = batch.Tensor(o.MaskColumnName);
        var keep = o.MaskMarksRemoved ? mask.OneMinus() : mask;
        LayerMaskInputCheck.Check(pixels, mask, keep, o.Method, o.ImageColumnName, o.MaskColumnName, batch.FirstRow, row => ImagePath(input, batch.FirstRow + row));
        if (PixelScaleCheck.Check(pixels, _classifier.Normalization, o.ImageColumnName) is { } warning)
        {
            using var channel = _env.Register(nameof(LayerMaskingEstimator)).Start("Checking the first batch");
            channel.Warning(warning);
        }
    }

    /// <summary>"image 'a.png'" for row <paramref name="row"/> when the data has a text column whose name contains "Path"; read only when an error needs it.</summary>
    private static string? ImagePath(IDataView input, long row)
    {
        var path = input.Schema.FirstOrDefault(c => !c.IsHidden && c.Type is TextDataViewType && c.Name.Contains("path", StringComparison.OrdinalIgnoreCase));
        if (path.Type is not TextDataViewType)
            return null;
        using var cursor = input.GetRowCursor([path]);
        var getter = cursor.GetGetter<ReadOnlyMemory<char>>(path);
        ReadOnlyMemory<char> value = default;
        for (long i = 0; i <= row; i++)
            if (!cursor.MoveNext())
                return null;
        getter(ref value);
        return $"image '{value}'";
    }

    private static ImageClassifier Validate(LayerMaskingOptions o)
    {
        const string Options = nameof(LayerMaskingOptions);
        ArgumentException.ThrowIfNullOrWhiteSpace(o.ImageColumnName, nameof(o.ImageColumnName));
        ArgumentException.ThrowIfNullOrWhiteSpace(o.MaskColumnName, nameof(o.MaskColumnName));
        ArgumentException.ThrowIfNullOrWhiteSpace(o.ScoreColumnName, nameof(o.ScoreColumnName));
        ArgumentException.ThrowIfNullOrWhiteSpace(o.PredictedLabelColumnName, nameof(o.PredictedLabelColumnName));
        if (o.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(o.BatchSize), o.BatchSize, $"{Options}.{nameof(o.BatchSize)} must be at least 1");
        if (!(o.BlurSigma > 0)) throw new ArgumentOutOfRangeException(nameof(o.BlurSigma), o.BlurSigma, $"{Options}.{nameof(o.BlurSigma)} must be positive");
        if (!Enum.IsDefined(o.Method)) throw new ArgumentOutOfRangeException(nameof(o.Method), o.Method, $"{Options}.{nameof(o.Method)} is not a masking method");
        var classifier = o.Classifier ?? throw new ArgumentException(
            $"Set {Options}.{nameof(o.Classifier)}: a trained classifier's .Classifier, ImageClassifier.FromModule(network, normalization, imageShape) " +
            "or ImageClassifier.FromWeights(path, architecture, normalization, imageShape).", nameof(o.Classifier));
        if (o.FeaturesColumnName is not null && classifier.FeatureCount is null)
            throw new ArgumentException(
                $"{Options}.{nameof(o.FeaturesColumnName)} is set but the network does not end in a Linear layer, so it has no penultimate features.",
                nameof(o.FeaturesColumnName));
        return classifier;
    }
}
