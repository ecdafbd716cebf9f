using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Segmentation;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Evaluation.Engine;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Runtime;
using TorchSharp;

namespace Microsoft.ML.Masking.Evaluation;

/// <summary>
/// Evaluators of missingness bias: how a classifier behaves when parts of its input are removed, by layer masking
/// and by the input-masking baselines. Get it with <c>mlContext.MaskingEvaluation()</c>. Each evaluator reads the
/// data once, scores it in batches on the MLContext's device, and reports progress and time left through
/// <c>mlContext.Log</c>.
/// </summary>
public sealed class MaskingEvaluationCatalog
{
    private readonly IHostEnvironment _env;

    internal MaskingEvaluationCatalog(IHostEnvironment env) => _env = env ?? throw new ArgumentNullException(nameof(env));

    /// <summary>
    /// Feature-removal curves: for every fraction d of <see cref="FeatureRemovalOptions.Fractions"/>, removes that
    /// fraction of each image's segments (in random or attribution order) with each masking method and reports
    /// top-1 accuracy, the fraction of predictions unchanged from the whole image, and the class entropy of the
    /// predictions. The network runs (images × repeats × fractions × methods) times.
    /// </summary>
    /// <param name="data">Rows with the image and label columns (and the segment or attribution column when the options use one).</param>
    /// <param name="options">Network, methods, fractions, segments and order.</param>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type or size (the message names it), or a setting is out of range.</exception>
    public FeatureRemovalResult EvaluateFeatureRemoval(IDataView data, FeatureRemovalOptions options)
    {
        var (shape, reader, labels) = Prepare(data, options, options?.Segmentation,
            attributionsColumn: options?.Order == RemovalOrder.Random ? null : options?.AttributionColumnName);
        string setting = $"{options!.Methods.Count} methods × {options.Fractions.Count} fractions × {options.Repeats} repeat(s), {options.Segmentation}, {options.Order} order";
        return Run(reader, labels, options, "Feature removal", setting, scorer => new FeatureRemovalEngine(scorer, shape, ClassCount(options),
            options.Fractions, options.Segmentation, options.Order, options.Repeats, options.Seed));
    }

    /// <summary>
    /// Mask-shape bias: on the images the network classifies correctly, the accuracy of each method with the
    /// ground-truth object removed and with the same mask rolled by half the image in both axes (a broken shape of
    /// the same area). See <see cref="ShapeBiasMetrics"/> for how to read it.
    /// </summary>
    /// <param name="data">Rows with the image, label and object-mask columns.</param>
    /// <param name="options">Network, methods and columns.</param>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type or size (the message names it).</exception>
    public ShapeBiasResult EvaluateShapeBias(IDataView data, ShapeBiasOptions options)
    {
        var (shape, reader, labels) = Prepare(data, options, segmentation: null, objectMasksColumn: options?.ObjectMaskColumnName);
        return Run(reader, labels, options!, "Shape bias", $"{options!.Methods.Count} methods × 2 masks", scorer => new ShapeBiasEngine(scorer, shape, options.Seed));
    }

    /// <summary>
    /// Mask-colour dependence: removes the same random fraction of each image, paints it with each fill colour,
    /// and measures how far the predictions move between colours, for the painted images themselves and for each
    /// masking method applied to them. Layer masking never reads removed pixels, so its spread is zero.
    /// </summary>
    /// <param name="data">Rows with the image and label columns (and the segment column when the options use one).</param>
    /// <param name="options">Network, methods, fraction, segments and fills.</param>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type or size (the message names it).</exception>
    public MaskColorDependenceResult EvaluateMaskColorDependence(IDataView data, MaskColorDependenceOptions options)
    {
        var (shape, reader, labels) = Prepare(data, options, options?.Segmentation);
        var fills = options!.FillsFor(shape.Channels);
        string setting = FormattableString.Invariant($"{fills.Count} fills × (painted input + {options.Methods.Count} methods), {options.Fraction:0.##} of {options.Segmentation} removed");
        return Run(reader, labels, options, "Mask colour dependence", setting, scorer => new MaskColorDependenceEngine(scorer, shape, fills,
            options.Fraction, options.Segmentation, options.Seed, options.ClassifierInEffect.Normalization, options.MaxPixelValue));
    }

    /// <summary>Checks the arguments, the options and the schema; returns the image layout and a reader of the columns used.</summary>
    private static (ImageShape Shape, EvaluationDataReader Reader, int[]? LabelMap) Prepare(IDataView data, MaskingEvaluationOptions? options,
        SegmentationOptions? segmentation, string? attributionsColumn = null, string? objectMasksColumn = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var shape = options.ResolveShape(data.Schema);
        segmentation?.Validate(shape.Height, shape.Width);
        var reader = new EvaluationDataReader(data, options.ImageColumnName, options.LabelColumnName, shape, ClassCount(options),
            segmentation?.Kind == SegmentationKind.Column ? segmentation.ColumnName : null, attributionsColumn, objectMasksColumn);
        return (shape, reader, LabelMap(data.Schema, options));
    }

    /// <summary>
    /// The classifier's class index of each label key (0-based), when the label's key values name the classifier's
    /// classes in another order; null when the orders agree or either side has no names (then keys are classes by position).
    /// </summary>
    /// <exception cref="ArgumentException">The label's key values are not the classifier's class names.</exception>
    private static int[]? LabelMap(DataViewSchema schema, MaskingEvaluationOptions options) =>
        options.ClassifierInEffect.LabelClassOrder(schema, options.LabelColumnName, "inputSchema");

    private static int ClassCount(MaskingEvaluationOptions options) => options.ClassifierInEffect.RequireClassifierHead("The masking evaluation");

    private TResult Run<TResult>(EvaluationDataReader reader, int[]? labelMap, MaskingEvaluationOptions options, string task, string setting,
        Func<IMaskedScorer, IEvaluationEngine<TResult>> createEngine)
    {
        var host = _env.Register(nameof(MaskingEvaluationCatalog));
        using var channel = host.Start(task);
        var classifier = options.ClassifierInEffect;
        var device = classifier.ResolveDevice(_env);
        classifier.Network.to(device);
        using var scorer = new MaskedClassifierScorer(classifier.Network, options.Methods, classifier.Normalization, options.BlurSigma, device);
        var engine = createEngine(scorer);
        var progress = new EvaluationProgress(channel, task, reader.CountRows(), setting);
        long done = 0;
        foreach (var batch in reader.Batches(options.BatchSize))
        {
            if (labelMap is not null)
                for (int i = 0; i < batch.Count; i++)
                    batch.Labels[i] = labelMap[batch.Labels[i]];
            if (done == 0)
                WarnOnPixelScale(channel, batch, classifier, options.ImageColumnName);
            engine.Add(batch);
            progress.Report(done += batch.Count);
        }
        return engine.Result();
    }

    private static void WarnOnPixelScale(IChannel channel, EvaluationBatch batch, ImageClassifier classifier, string column)
    {
        var shape = classifier.ImageShape;
        using var scope = TorchSharp.torch.NewDisposeScope();
        var pixels = TorchSharp.torch.tensor(batch.Pixels, [batch.Count, shape.Channels, shape.Height, shape.Width]);
        if (PixelScaleCheck.Check(pixels, classifier.Normalization, column) is { } warning)
            channel.Warning(warning);
    }
}
