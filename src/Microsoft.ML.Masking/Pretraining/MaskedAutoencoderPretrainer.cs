using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Batching;
using Microsoft.ML.Masking.Core.Training;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.Pretraining.Engine;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Masking.Pretraining;

/// <summary>
/// Pre-trains a ViT masked autoencoder on an image column, without labels, and returns a
/// <see cref="MaskedAutoencoderTransformer"/> that adds an embedding column, so that
/// <c>PretrainMaskedAutoencoder → LbfgsMaximumEntropy</c> (or any ML.NET trainer) is an ordinary pipeline. With
/// <see cref="MaskingStrategy.Adversarial"/> masking an Adversarial Masking Network learns, per image, which patches
/// to hide so that reconstruction is hard, trained concurrently with the autoencoder. Create it with
/// <c>mlContext.Transforms.PretrainMaskedAutoencoder(options)</c>.
/// </summary>
/// <remarks>
/// <para>Fit reads the images once into memory (float32), checks them (column type, one image size, a size that the
/// patch size divides, finite pixels, at least one row) and trains on the library's one training loop: progress in the
/// ML.NET log (source "MaskedAutoencoderPretrainer", one line per epoch) and a progress channel, cancellation with
/// <c>mlContext.CancelExecution()</c> or the options' token, atomic checkpoints and resume.</para>
/// <para>Reproducibility: the same seed, data, options and thread count give bit-identical weights; a run resumed from a
/// checkpoint ends with the same weights as an uninterrupted one.</para>
/// </remarks>
public sealed partial class MaskedAutoencoderPretrainer : IEstimator<MaskedAutoencoderTransformer>
{
    internal const string RegistrationName = "MaskedAutoencoderPretrainer";

    private readonly IHost _host;
    private readonly Options _options;

    internal MaskedAutoencoderPretrainer(IHostEnvironment env, Options options)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _host = env.Register(RegistrationName);
        _options = options;
    }

    /// <summary>The output schema: the input columns plus the embedding column and the optional picture columns.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The image column is missing or not a known-size vector of Single.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaChecks.CheckFloatVector(inputSchema, _options.ImageColumnName);
        var outputs = new List<SchemaShape.Column> { SchemaShapeColumns.FloatVector(_options.EmbeddingColumnName) };
        foreach (var name in new[] { _options.ScoreMapColumnName, _options.ReconstructionColumnName, _options.MaskColumnName })
            if (name is not null)
                outputs.Add(SchemaShapeColumns.FloatVector(name));
        return SchemaShapeColumns.Append(inputSchema, outputs);
    }

    /// <summary>Pre-trains on the images of <paramref name="input"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The image column is missing, has the wrong type, or holds images the patch size does not divide.</exception>
    /// <exception cref="InvalidOperationException">The data is empty or has non-finite pixels.</exception>
    /// <exception cref="OperationCanceledException">Training was cancelled.</exception>
    public MaskedAutoencoderTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var o = _options;
        using var channel = _host.Start("Pre-training");
        var reader = new DataViewBatchReader(input,
            [BatchInputColumn.Image(o.ImageColumnName, o.ImageShape, BatchValueRules.Finite) with { ShapeOption = "MaskedAutoencoderPretrainer.Options.ImageShape" }],
            nameof(input), "training data");
        var shape = reader.ImageShape;
        int patch = o.Architecture.PatchSize;
        if (patch < 1 || shape.Height % patch != 0 || shape.Width % patch != 0)
            throw new ArgumentOutOfRangeException(nameof(input),
                $"Image column '{o.ImageColumnName}' holds {shape} images; their height and width must be multiples of Options.Architecture.PatchSize ({patch}). " +
                "Resize the images (ResizeImages) or choose a patch size that divides both.");
        var architecture = o.Architecture with { Channels = shape.Channels, ImageHeight = shape.Height, ImageWidth = shape.Width };
        architecture.Validate();
        using var training = TrainingExamples.Read(reader);
        var normalization = o.Normalization ?? ChannelNormalization.Measure(training.Images);
        if (normalization.Channels != shape.Channels)
            throw new ArgumentException(
                $"Options.Normalization has {normalization.Channels} channel(s) but the images in column '{o.ImageColumnName}' have {shape.Channels}.", nameof(input));

        using var progress = _host.StartProgressChannel("Masked-autoencoder pre-training");
        var engine = new MaskedPretrainingEngine(o, HostDevice.Resolve(_host), _host, channel);
        engine.EpochFinished += report => progress.Checkpoint(report.ReconstructionLoss, report.HardnessGap, report.ImagesPerSecond, report.Epoch);
        engine.Progress.ShowOn(progress, "Loss", "Hardness gap", "Images/s");
        var (network, history) = engine.Train(training, normalization, architecture);
        var header = new MaskedAutoencoderTransformer.Header(o.ImageColumnName, shape, o.EmbeddingColumnName, o.ScoreMapColumnName,
            o.ReconstructionColumnName, o.MaskColumnName, o.Pooling, architecture, o.ToMaskingSettings(),
            normalization.Mean.ToArray(), normalization.StandardDeviation.ToArray(), o.InferenceBatchSize, o.Seed);
        return new MaskedAutoencoderTransformer(_host, header, network, history);
    }
}
