using Microsoft.ML.Data;
using Microsoft.ML.Masking.Attribution.Engine;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Batching;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Evaluation;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using ResNet = Microsoft.ML.Masking.Models.ResNet;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution.Metrics;

/// <summary>
/// Metrics that tell a faithful explanation from a pretty one: deletion/insertion curves and top-k ablation under
/// layer masking, the baselines and ROAD; localisation against object masks; completeness; cascading randomisation.
/// Get it with <c>mlContext.AttributionEvaluation()</c>. Every metric is a mean with its standard error over rows.
/// </summary>
public sealed class AttributionEvaluationCatalog
{
    private readonly IHostEnvironment _env;

    internal AttributionEvaluationCatalog(IHostEnvironment env) => _env = env ?? throw new ArgumentNullException(nameof(env));

    /// <summary>
    /// Evaluates the attribution column of <paramref name="data"/> (for example the output of an attribution transformer):
    /// for each removal method, the target's probability as the most relevant segments are deleted (MoRF), the least
    /// relevant ones (LeRF), and as the most relevant are inserted into an empty image, with their areas; top-k ablation
    /// accuracy; the consistency metric C(E); and, when asked, faithfulness correlation, linearity of removal,
    /// infidelity, localisation and completeness.
    /// </summary>
    /// <param name="data">Rows with the image, label and attribution columns (and the object-mask column when given).</param>
    /// <param name="options">Network, columns, removals, fractions and segments.</param>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type or size (the message names it).</exception>
    public AttributionEvaluationResult Evaluate(IDataView data, AttributionEvaluationOptions options)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var classifier = options.ClassifierInEffect;
        var shape = classifier.ImageShape;
        SchemaChecks.CheckImageVector(data.Schema, options.ImageColumnName, shape, nameof(data));
        options.Segmentation.Validate(shape.Height, shape.Width);
        options.TopKSegmentation.Validate(shape.Height, shape.Width);
        options.Validate(shape);
        var reader = new EvaluationDataReader(data, options.ImageColumnName, options.LabelColumnName, shape, classifier.RequireClassifierHead("The attribution evaluation"),
            attributionsColumn: options.AttributionColumnName, objectMasksColumn: options.ObjectMaskColumnName);
        using var engine = new AttributionEvaluationEngine(options, shape, classifier.ResolveDevice(_env));
        foreach (var batch in reader.Batches(options.BatchSize))
        {
            _env.CheckAlive();
            engine.Add(batch);
        }
        return engine.Result();
    }

    /// <summary>
    /// Cascading model-parameter randomisation of an attribution method on a TorchSharp network: re-initialises the
    /// network's top-level layers one by one from the output down (a copy; the trained network is untouched), re-runs
    /// the method and reports Spearman's ρ between each row's |attribution| before and after. A predicted-class target
    /// stays the trained network's prediction on every copy (Adebayo et al. explain the same class before and after), so
    /// a change of the explained class is not counted as the method's sensitivity to the parameters.
    /// </summary>
    /// <param name="data">Rows with the method's image column.</param>
    /// <param name="method">The method's options, with its <c>Classifier</c> or <c>Model</c>.</param>
    /// <param name="seed">Seed of the re-initialisation.</param>
    public RandomizationResult EvaluateRandomization(IDataView data, AttributionOptions method, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(method);
        method.Validate();
        var classifier = method.Classifier ?? throw new ArgumentException("Randomisation re-initialises a TorchSharp network: give the method a Classifier.", nameof(method));
        var architecture = classifier.Architecture ?? throw new ArgumentException("Randomisation copies the network, which it can for the library's ResNet (ImageClassifier.Architecture is set).", nameof(method));
        var original = Attributions(data, method, classifier);
        var copy = new ResNet(architecture);
        copy.load_state_dict(classifier.Network.state_dict());
        copy.to(classifier.ResolveDevice(_env));
        copy.eval();
        var layers = copy.named_children().Where(c => c.module.parameters().Any()).Select(c => c.name).Reverse().ToArray();
        var steps = new List<RandomizationStep>();
        var generator = AttributionSeeds.For(seed, AttributionSeeds.Randomization, 0);
        foreach (var layer in layers)
        {
            _env.CheckAlive();
            Reinitialize(copy.named_children().First(c => c.name == layer).module, generator);
            var randomized = Attributions(data, method, ImageClassifier.FromModule(copy, classifier.Normalization, classifier.ImageShape, classifier.ClassNames, classifier.Device),
                targetClassifier: classifier);
            var rho = new MetricAccumulator();
            for (int i = 0; i < original.Length; i++)
                rho.Add(RankCorrelation.Spearman(original[i].Select(Math.Abs).ToArray(), randomized[i].Select(Math.Abs).ToArray()));
            steps.Add(new RandomizationStep(layer, MetricValue.From(rho)));
        }
        return new RandomizationResult(method.MethodName, steps);
    }

    /// <summary>
    /// Max-sensitivity (Yeh et al. 2019; Quantus's <c>MaxSensitivity</c>): for each row, the largest relative change of
    /// the attribution, ‖Φ(x + δ) − Φ(x)‖₂ / ‖Φ(x)‖₂, over <paramref name="samples"/> draws of uniform noise δ in
    /// [−<paramref name="radius"/>, <paramref name="radius"/>] per pixel value, each re-explained for the row's own target.
    /// Lower is more robust. All rows × samples of a batch are explained together.
    /// </summary>
    /// <param name="data">Rows with the method's input columns.</param>
    /// <param name="method">The method's options, with its <c>Classifier</c> or <c>Scorer</c>.</param>
    /// <param name="samples">Noise draws per row (Quantus: 200). Default: 10.</param>
    /// <param name="radius">Half-width of the uniform noise, in pixel units (Quantus's lower_bound). Default: 0.2.</param>
    /// <param name="seed">Seed of the noise.</param>
    /// <param name="fixedSegments">False (the default, as Quantus's explain function would): each noisy copy is a new
    /// image, segmented anew (SLIC superpixels move with the noise) and with its own random draws (LIME's and KernelSHAP's
    /// sample matrices, noise fills), so for superpixel methods the value mixes the noise's effect on the scores with new
    /// segments and new samples. True: every copy keeps its row's segmentation and its row's draws, so the value measures
    /// the input noise alone. Methods without segments or draws give the same value either way.</param>
    /// <remarks>Quantus divides by the norm of the input in some releases and of the attribution in others; dividing by
    /// the attribution's norm makes the value scale-free, so methods whose maps have different units compare.</remarks>
    public MaxSensitivityResult EvaluateMaxSensitivity(IDataView data, AttributionOptions method, int samples = 10, double radius = 0.2, int seed = 0,
        bool fixedSegments = false)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(method);
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), samples, "Max-sensitivity needs at least one sample.");
        if (!(radius > 0) || !double.IsFinite(radius)) throw new ArgumentOutOfRangeException(nameof(radius), radius, "The noise radius must be finite and positive.");
        var transformer = new AttributionEstimator(_env, method).Fit(data);
        var reader = new DataViewBatchReader(data, transformer.Inputs);
        var sensitivity = new MetricAccumulator();
        foreach (var batch in reader.Batches(method.BatchSize))
        {
            _env.CheckAlive();
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var (original, perturbed) = transformer.ExplainPerturbed(batch.Columns, batch.Count, samples, radius, seed, fixedSegments);
            var a = original.flatten(1).to(ScalarType.Float64);
            var change = perturbed.flatten(1).to(ScalarType.Float64).view(batch.Count, samples, -1).sub(a.unsqueeze(1));
            var changeNorm = change.mul(change).sum(2).sqrt().amax([1]);
            var relative = changeNorm.div(a.mul(a).sum(1).sqrt()).cpu().data<double>().ToArray();
            foreach (double v in relative)
                sensitivity.Add(double.IsFinite(v) ? v : double.NaN);
        }
        return new MaxSensitivityResult(method.MethodName, samples, radius, fixedSegments, MetricValue.From(sensitivity));
    }

    private float[][] Attributions(IDataView data, AttributionOptions method, ImageClassifier classifier, ImageClassifier? targetClassifier = null)
    {
        var options = AttributionMethods.Clone(method);
        options.Classifier = classifier;
        options.TargetClassifier = targetClassifier;
        var transformer = new AttributionEstimator(_env, options).Fit(data);
        var output = transformer.Transform(data);
        int size = transformer.OutputChannels * transformer.ImageShape.Pixels;
        var rows = new List<float[]>();
        foreach (var batch in new DataViewBatchReader(output, [BatchInputColumn.Vector(options.OutputColumnName, size)]).Batches(options.BatchSize))
            for (int i = 0; i < batch.Count; i++)
                rows.Add(batch[options.OutputColumnName].Row(i).ToArray());
        return rows.ToArray();
    }

    /// <summary>
    /// Kaiming-normal (fan-in) weights and zero biases for every convolution and linear layer of <paramref name="module"/>,
    /// and every BatchNorm back to its fresh state (weight 1, bias 0, running mean 0, running variance 1): a trained
    /// BatchNorm keeps the trained scale and shift of the layer before it, and a top-level one (the stem's) would otherwise
    /// be a step that randomises nothing.
    /// </summary>
    internal static void Reinitialize(nn.Module module, Generator generator)
    {
        using var _ = no_grad();
        foreach (var (_, m) in module.named_modules().Prepend(("", module)))
        {
            switch (m)
            {
                case Conv2d c:
                    c.weight.normal_(0, Math.Sqrt(2.0 / (c.weight.shape[1] * c.weight.shape[2] * c.weight.shape[3])), generator);
                    c.bias?.zero_();
                    break;
                case Linear l:
                    l.weight.normal_(0, Math.Sqrt(2.0 / l.weight.shape[1]), generator);
                    l.bias?.zero_();
                    break;
                case BatchNorm2d b:
                    b.weight?.FillInPlace(1);
                    b.bias?.zero_();
                    b.running_mean?.zero_();
                    b.running_var?.FillInPlace(1);
                    break;
            }
        }
    }
}
