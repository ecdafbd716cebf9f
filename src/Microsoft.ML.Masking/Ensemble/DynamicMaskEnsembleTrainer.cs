using System.Globalization;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Batching;
using Microsoft.ML.Masking.Core.Training;
using Microsoft.ML.Masking.Ensemble.Engine;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Masking.Ensemble;

/// <summary>
/// Trains a dynamic-mask ensemble with adversarial feature distillation on a planar float image column and a
/// key-typed label, producing a <see cref="DynamicMaskEnsembleTransformer"/> (Score, PredictedLabel, open-set
/// scores and gates). Create it with <c>mlContext.MulticlassClassification.Trainers.DynamicMaskEnsemble(options)</c>.
/// </summary>
/// <remarks>
/// <para>Members are trained one after another, the earlier ones frozen. Member 0 is the ordinary classifier: the
/// same computation as <c>Trainers.ResNet</c> with <see cref="Options.Member"/> and <see cref="Options.Seed"/>. After
/// each member, its exact per-channel logit contributions at the last feature map (pooled activation × class weight)
/// are averaged over the training data and kept in a running record (<see cref="DynamicMaskEnsembleTransformer.ChannelImportance"/>).
/// Member i &gt; 0 trains on each clean batch and on its distilled copy: every image moved, within L∞
/// <see cref="Options.Epsilon"/>, by PGD with momentum so that a randomly chosen earlier member's top channels match
/// those of an image of another class in the batch (loss CE(clean) + λ·CE(distilled), original labels). Its gating
/// network, trained with it, turns the earlier members' per-input channel contributions into a gate in (0, 1) on its
/// own channels, applied to the feature maps before the final layer.</para>
/// <para>Progress goes to the ML.NET log (source "DynamicMaskEnsembleTrainer": one line per member and epoch) and to
/// one progress channel per member. The same seed, data, options and thread count give bit-identical members; with
/// <see cref="Options.CheckpointDirectory"/> an interrupted run resumes per member.</para>
/// </remarks>
public sealed partial class DynamicMaskEnsembleTrainer : IEstimator<DynamicMaskEnsembleTransformer>
{
    internal const string RegistrationName = "DynamicMaskEnsembleTrainer";

    private readonly IHost _host;
    private readonly Options _options;

    internal DynamicMaskEnsembleTrainer(IHostEnvironment env, Options options)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _host = env.Register(RegistrationName);
        _options = options;
    }

    /// <summary>
    /// The output schema: the input columns plus Score, PredictedLabel, MSP, Energy, MutualInformation,
    /// MemberAveragedEnergy, GateClosure and Gates. Checks that the image column is a known-size vector of Single and
    /// the label a key.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type; the message names it.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var o = _options;
        SchemaChecks.CheckFloatVector(inputSchema, o.ImageColumnName);
        SchemaChecks.CheckKey(inputSchema, o.LabelColumnName);
        return SchemaShapeColumns.Append(inputSchema,
        [
            SchemaShapeColumns.FloatVector(o.ScoreColumnName, hasSlotNames: true),
            SchemaShapeColumns.Key(o.PredictedLabelColumnName),
            SchemaShapeColumns.Float(o.MaximumSoftmaxProbabilityColumnName),
            SchemaShapeColumns.Float(o.EnergyColumnName),
            SchemaShapeColumns.Float(o.MutualInformationColumnName),
            SchemaShapeColumns.Float(o.MemberAveragedEnergyColumnName),
            SchemaShapeColumns.Float(o.GateClosureColumnName),
            SchemaShapeColumns.FloatVector(o.GatesColumnName),
        ]);
    }

    /// <summary>Trains the ensemble on <paramref name="input"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type (e.g. a label that is not a key).</exception>
    /// <exception cref="InvalidOperationException">The data is empty, has bad values, or a validation set that differs in schema.</exception>
    /// <exception cref="OperationCanceledException">Training was cancelled (the last checkpoints stay).</exception>
    public DynamicMaskEnsembleTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var o = _options;
        using var channel = _host.Start("Training");
        using var training = TrainingExamples.ReadClassification(input, o.ImageColumnName, o.Member.ImageShape,
            "DynamicMaskEnsembleTrainer.Options.Member.ImageShape", o.LabelColumnName);
        if (training.Count < 2)
            throw new InvalidOperationException($"The training data has {training.Count} image(s); training needs at least 2.");
        var validation = o.ValidationSet is null ? null
            : StreamedExamples.ReadValidation(o.ValidationSet, training, o.ImageColumnName, o.LabelColumnName, nameof(Options.ValidationSet));
        var normalization = o.Member.Normalization ?? ChannelNormalization.Measure(training.Images);

        var progressChannels = new List<IProgressChannel>();
        try
        {
            var engine = new EnsembleTrainingEngine(o, HostDevice.Resolve(_host), _host, channel, (member, progress) =>
            {
                var progressChannel = _host.StartProgressChannel($"Dynamic-mask ensemble member {member + 1}/{o.MemberCount}");
                progressChannels.Add(progressChannel);
                progress.ShowOn(progressChannel, "Loss");
            });
            var result = engine.Train(training, validation, normalization);
            var classNames = training.ClassNames?.ToArray()
                ?? Enumerable.Range(0, training.ClassCount).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
            var architecture = o.Member.Architecture with { InputChannels = training.Shape.Channels, NumClasses = training.ClassCount };
            var header = new DynamicMaskEnsembleTransformer.Header(o.ImageColumnName, training.Shape, o.ScoreColumnName,
                o.PredictedLabelColumnName, o.MaximumSoftmaxProbabilityColumnName, o.EnergyColumnName, o.MutualInformationColumnName,
                o.MemberAveragedEnergyColumnName, o.GateClosureColumnName, o.GatesColumnName, classNames,
                normalization.Mean.ToArray(), normalization.StandardDeviation.ToArray(), architecture, o.MemberCount, o.Gating,
                o.GateHiddenUnits, o.Aggregation, result.MemberWeights, result.ChannelImportances.ToArray(), o.InferenceBatchSize, o.ImportanceMethod,
                o.SpatialGateThreshold, o.SpatialGateTemperature, result.Network.FeatureMapSize(training.Shape));
            return new DynamicMaskEnsembleTransformer(_host, header, result.Network, result.Histories);
        }
        finally
        {
            foreach (var p in progressChannels) p.Dispose();
        }
    }
}
