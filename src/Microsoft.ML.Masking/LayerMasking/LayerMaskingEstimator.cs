using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.LayerMasking.Engine;
using Microsoft.ML.Runtime;

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

    /// <summary>Checks the input columns and fits (checks the network can be layer-masked).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing, or its type, size or dimensions contradict the classifier's image shape (the message names the column).</exception>
    /// <exception cref="NotSupportedException">The network has a module layer masking cannot handle (the message names it).</exception>
    public LayerMaskingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var o = _options;
        SchemaChecks.CheckImageVector(input.Schema, o.ImageColumnName, _classifier.ImageShape, nameof(input));
        SchemaChecks.CheckPixelVector(input.Schema, o.MaskColumnName, _classifier.ImageShape, nameof(input));
        // Fails here, naming the module, rather than on the first batch.
        using (LayerMaskedNetwork.Create(_classifier.Network)) { }
        var settings = new LayerMaskingTransformer.Settings(
            o.ImageColumnName, o.MaskColumnName, o.ScoreColumnName, o.FeaturesColumnName, o.Method,
            o.BlurSigma, o.NoiseSeed, o.OutputLogits, o.BatchSize, o.MaskMarksRemoved, o.PredictedLabelColumnName);
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
