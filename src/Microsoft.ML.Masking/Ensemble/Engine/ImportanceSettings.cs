using Microsoft.ML.Masking.Attribution.Engine;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Data;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Ensemble.Engine;

/// <summary>
/// How member importance is measured (<see cref="DynamicMaskEnsembleTrainer.Options.ImportanceMethod"/> and its
/// settings): the exact GAP + linear contribution, or the attribution catalog's Integrated Gradients or GradientSHAP
/// on the member split at its gated last feature map (<see cref="EnsembleNetwork.MemberLayer"/>).
/// </summary>
internal sealed record ImportanceSettings(ChannelImportanceMethod Method, AttributionBaseline Baseline, int Steps, int Samples, double NoiseFraction, int Seed)
{
    /// <summary>The exact contribution.</summary>
    public static readonly ImportanceSettings Exact = new(ChannelImportanceMethod.Exact, AttributionBaseline.Zero, 1, 1, 0, 0);

    /// <summary>The layer attribution method for member <paramref name="member"/>, or null for the exact contribution.</summary>
    public GradientMethod? Create(EnsembleNetwork network, int member, ImageShape shape, ChannelNormalization normalization, int batchSize, Device device)
    {
        if (Method == ChannelImportanceMethod.Exact)
            return null;
        var classifier = ImageClassifier.FromModule(network.Members[member], normalization, shape, device: device);
        var layer = network.MemberLayer(member);
        return Method switch
        {
            ChannelImportanceMethod.LayerIntegratedGradients => new IntegratedGradients(classifier, layer, Steps, IntegrationRule.GaussLegendre, Baseline,
                ScoreKind.Logit, batchSize, Seed, device),
            ChannelImportanceMethod.LayerGradientShap => new GradientShap(classifier, layer, [Baseline], Samples, NoiseFraction,
                ScoreKind.Logit, batchSize, Seed, device),
            _ => throw new ArgumentOutOfRangeException(nameof(Method), Method, "Unknown importance method."),
        };
    }

    /// <summary>A description for checkpoint fingerprints and logs (invariant culture).</summary>
    public override string ToString() => Method == ChannelImportanceMethod.Exact ? "exact"
        : FormattableString.Invariant($"{Method} baseline {Baseline} steps {Steps} samples {Samples} noise {NoiseFraction:R} seed {Seed}");
}
