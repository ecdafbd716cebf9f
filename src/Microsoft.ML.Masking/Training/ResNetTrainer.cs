using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Batching;
using Microsoft.ML.Masking.Core.Training;
using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.Training.Engine;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Masking.Training;

/// <summary>
/// Trains a TorchSharp <see cref="Models.ResNet"/> image classifier on a planar float image column and a key-typed
/// label, producing a <see cref="ResNetClassificationTransformer"/> (Score and PredictedLabel columns). Create it with
/// <c>mlContext.MulticlassClassification.Trainers.ResNet(options)</c>.
/// </summary>
/// <remarks>
/// <para>Fit checks the schema (a planar image column whose [C, H, W] dimensions, as ExtractPixels declares them,
/// give the image shape; a key-typed label; a validation set with the same layout and classes), reads the training
/// set once into one compact float32 tensor (each epoch shuffles it afresh, which needs random access), checking
/// every value (finite pixels, labels inside the key range), streams the validation set from its data view after
/// every epoch, and trains on the library's training loop with the options' optimiser, schedule and augmentation. Progress goes to the ML.NET log (<c>mlContext.Log</c>, source
/// "ResNetTrainer": one line per epoch with loss, accuracy, images/s) and to a progress channel with the header
/// Loss, Accuracy, Images/s over epochs and batches.</para>
/// <para>Reproducibility: the same seed, data, options and thread count give bit-identical weights; a run resumed from
/// a checkpoint ends with the same weights as an uninterrupted one.</para>
/// </remarks>
public sealed partial class ResNetTrainer : IEstimator<ResNetClassificationTransformer>
{
    internal const string RegistrationName = "ResNetTrainer";

    private readonly IHost _host;
    private readonly Options _options;

    internal ResNetTrainer(IHostEnvironment env, Options options)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _host = env.Register(RegistrationName);
        _options = options;
    }

    /// <summary>
    /// The output schema: the input columns plus Score (vector of Single, one per class) and PredictedLabel (key).
    /// Checks that the image column is a known-size vector of Single and the label a key.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type; the message names it.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        Core.SchemaChecks.CheckFloatVector(inputSchema, _options.ImageColumnName);
        Core.SchemaChecks.CheckKey(inputSchema, _options.LabelColumnName);
        return SchemaShapeColumns.Append(inputSchema,
        [
            SchemaShapeColumns.FloatVector(_options.ScoreColumnName, hasSlotNames: true),
            SchemaShapeColumns.Key(_options.PredictedLabelColumnName),
        ]);
    }

    /// <summary>Trains the network on <paramref name="input"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    /// <exception cref="InvalidOperationException">The data is empty, has images of mixed sizes, NaN pixels, labels outside the key range, or a validation set that differs in schema.</exception>
    /// <exception cref="OperationCanceledException">The options' cancellation token was cancelled.</exception>
    public ResNetClassificationTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var o = _options;
        using var channel = _host.Start("Training");
        using var training = TrainingExamples.ReadClassification(input, o.ImageColumnName, o.ImageShape,
            "ResNetTrainer.Options.ImageShape", o.LabelColumnName);
        var validation = o.ValidationSet is null ? null
            : StreamedExamples.ReadValidation(o.ValidationSet, training, o.ImageColumnName, o.LabelColumnName, nameof(Options.ValidationSet));

        var normalization = o.Normalization ?? ChannelNormalization.Measure(training.Images);
        channel.Info($"Channel normalization: mean [{string.Join(", ", normalization.Mean.Select(F))}], " +
                     $"standard deviation [{string.Join(", ", normalization.StandardDeviation.Select(F))}].");

        using var progress = _host.StartProgressChannel("ResNet training");
        var engine = new ResNetTrainingEngine(o, HostDevice.Resolve(_host), _host, channel, report =>
            progress.Checkpoint(report.TrainingLoss, report.TrainingAccuracy, report.ImagesPerSecond, report.Epoch));
        engine.Progress.ShowOn(progress, "Loss", "Accuracy", "Images/s");

        var result = engine.Train(training, validation, normalization);
        var classNames = training.ClassNames?.ToArray()
            ?? Enumerable.Range(0, training.ClassCount).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var header = new ResNetClassificationTransformer.Header(o.ImageColumnName, training.Shape, o.ScoreColumnName,
            o.PredictedLabelColumnName, classNames, normalization.Mean.ToArray(), normalization.StandardDeviation.ToArray(),
            result.Model.Architecture, o.InferenceBatchSize);
        return new ResNetClassificationTransformer(_host, header, result.Model, result.History);
    }

    private static string F(float value) => value.ToString("0.####", CultureInfo.InvariantCulture);

    private static string Describe(ResNetEpochReport r, int epochs)
    {
        var line = FormattableString.Invariant(
            $"Epoch {r.Epoch}/{epochs}: loss {r.TrainingLoss:F4}, accuracy {r.TrainingAccuracy:F4}");
        if (r.ValidationAccuracy is { } va)
            line += FormattableString.Invariant($", validation loss {r.ValidationLoss:F4}, validation accuracy {va:F4}");
        return line + FormattableString.Invariant($", {r.ImagesPerSecond:F0} images/s, lr {r.LearningRate:G3}, {r.Duration.TotalSeconds:F1} s");
    }
}
