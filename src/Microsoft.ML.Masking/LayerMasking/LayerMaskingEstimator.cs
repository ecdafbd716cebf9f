using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Persistence;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.LayerMasking.Engine;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Masking.LayerMasking;

/// <summary>
/// Estimator for <see cref="LayerMaskingTransformer"/>: checks the options, the input columns and the network
/// (every module must be one layer masking supports), loads weights when given a file, and returns the transformer.
/// Nothing is trained. Create it with <see cref="LayerMaskingCatalog.LayerMask(TransformsCatalog, LayerMaskingOptions)"/>.
/// </summary>
public sealed class LayerMaskingEstimator : IEstimator<LayerMaskingTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly LayerMaskingOptions _options;

    internal LayerMaskingEstimator(IHostEnvironment env, LayerMaskingOptions options)
    {
        _env = env ?? throw new ArgumentNullException(nameof(env));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        Validate(options);
    }

    /// <summary>Checks the input columns and fits (loads the network and checks it can be layer-masked).</summary>
    public LayerMaskingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var o = _options;
        SchemaChecks.CheckFloatVector(input.Schema, o.ImageColumnName, o.ImageChannels * o.ImageHeight * o.ImageWidth, nameof(input));
        SchemaChecks.CheckFloatVector(input.Schema, o.MaskColumnName, o.ImageHeight * o.ImageWidth, nameof(input));
        var model = o.Model ?? LoadWeights(o);
        if (model.Architecture.InputChannels != o.ImageChannels)
            throw new ArgumentException($"The network takes {model.Architecture.InputChannels} channels but ImageChannels is {o.ImageChannels}.", nameof(LayerMaskingOptions.ImageChannels));
        // Fails here, naming the module, rather than on the first batch.
        using (LayerMaskedNetwork.Create(model)) { }
        var settings = new LayerMaskingTransformer.Settings(
            o.ImageColumnName, o.MaskColumnName, o.ScoreColumnName, o.FeaturesColumnName,
            o.ImageChannels, o.ImageHeight, o.ImageWidth, o.Method,
            o.ChannelMean ?? new float[o.ImageChannels], o.ChannelStandardDeviation ?? Enumerable.Repeat(1f, o.ImageChannels).ToArray(),
            o.BlurSigma, o.NoiseSeed, o.OutputLogits, o.BatchSize, model.Architecture,
            o.MaskMarksRemoved, o.ClassNames?.ToArray(), o.PredictedLabelColumnName);
        if (o.ClassNames is not null && o.ClassNames.Count != model.Architecture.NumClasses)
            throw new ArgumentException($"ClassNames has {o.ClassNames.Count} names but the network has {model.Architecture.NumClasses} classes.", nameof(LayerMaskingOptions.ClassNames));
        return new LayerMaskingTransformer(_env, settings, model);
    }

    /// <summary>Checks that the image and mask columns are float vectors and describes the output columns.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaChecks.CheckFloatVector(inputSchema, _options.ImageColumnName);
        SchemaChecks.CheckFloatVector(inputSchema, _options.MaskColumnName);
        var outputs = new List<SchemaShape.Column> { SchemaShapeColumns.FloatVector(_options.ScoreColumnName) };
        if (_options.FeaturesColumnName is not null)
            outputs.Add(SchemaShapeColumns.FloatVector(_options.FeaturesColumnName));
        if (_options.ClassNames is not null)
            outputs.Add(SchemaShapeColumns.Key(_options.PredictedLabelColumnName));
        return SchemaShapeColumns.Append(inputSchema, outputs);
    }

    private static ResNet LoadWeights(LayerMaskingOptions o)
    {
        var model = new ResNet(o.Architecture!);
        ModuleWeights.LoadFile(model, o.WeightsPath!);
        model.eval();
        return model;
    }

    private static void Validate(LayerMaskingOptions o)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(o.ImageColumnName, nameof(o.ImageColumnName));
        ArgumentException.ThrowIfNullOrWhiteSpace(o.MaskColumnName, nameof(o.MaskColumnName));
        ArgumentException.ThrowIfNullOrWhiteSpace(o.ScoreColumnName, nameof(o.ScoreColumnName));
        if (o.ImageChannels < 1) throw new ArgumentOutOfRangeException(nameof(o.ImageChannels), o.ImageChannels, "must be at least 1");
        if (o.ImageHeight < 1) throw new ArgumentOutOfRangeException(nameof(o.ImageHeight), o.ImageHeight, "set the image height in pixels");
        if (o.ImageWidth < 1) throw new ArgumentOutOfRangeException(nameof(o.ImageWidth), o.ImageWidth, "set the image width in pixels");
        if (o.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(o.BatchSize), o.BatchSize, "must be at least 1");
        if (!(o.BlurSigma > 0)) throw new ArgumentOutOfRangeException(nameof(o.BlurSigma), o.BlurSigma, "must be positive");
        if (o.ChannelMean is not null || o.ChannelStandardDeviation is not null)
            new ChannelNormalization(o.ChannelMean ?? new float[o.ImageChannels], o.ChannelStandardDeviation ?? Enumerable.Repeat(1f, o.ImageChannels).ToArray()).EnsureChannels(o.ImageChannels);
        if (o.Model is null)
        {
            if (o.WeightsPath is null || o.Architecture is null)
                throw new ArgumentException("Give the network: LayerMaskingOptions.Model, or WeightsPath together with Architecture.");
            o.Architecture.Validate();
            if (!File.Exists(o.WeightsPath))
                throw new FileNotFoundException($"Weights file '{o.WeightsPath}' does not exist.", o.WeightsPath);
        }
    }
}
