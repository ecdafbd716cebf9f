using Microsoft.ML.Masking.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Pretraining.Engine;

/// <summary>
/// What adversarial-masking pre-training trains: the masked autoencoder and, for adversarial masking, the
/// Adversarial Masking Network, as one module so that one optimiser, one checkpoint and one weights file hold both.
/// </summary>
internal sealed class MaskedPretrainingNetwork : nn.Module
{
    private readonly MaskedAutoencoder mae;
    private readonly AdversarialMaskingNetwork? amn;

    /// <summary>Creates both networks, their initial weights drawn from one generator seeded by <paramref name="seed"/>.</summary>
    public MaskedPretrainingNetwork(MaskedAutoencoderArchitecture architecture, bool withMaskingNetwork, int maskingNetworkChannels, long seed)
        : base(nameof(MaskedPretrainingNetwork))
    {
        using var generator = new Generator((ulong)seed);
        mae = new MaskedAutoencoder(architecture, generator);
        amn = withMaskingNetwork ? new AdversarialMaskingNetwork(architecture.Channels, maskingNetworkChannels, generator) : null;
        RegisterComponents();
    }

    /// <summary>The masked autoencoder.</summary>
    public MaskedAutoencoder Autoencoder => mae;

    /// <summary>The masking network; null for random masking.</summary>
    public AdversarialMaskingNetwork? MaskingNetwork => amn;

    /// <summary>The masking network's parameters (empty for random masking).</summary>
    public IEnumerable<TorchSharp.Modules.Parameter> MaskingNetworkParameters => amn?.parameters() ?? [];

    /// <summary>The autoencoder's parameters.</summary>
    public IEnumerable<TorchSharp.Modules.Parameter> AutoencoderParameters => mae.parameters();

    /// <summary>Per-patch masking scores [N, L] of normalised images, or null without a masking network.</summary>
    public Tensor? PatchScores(Tensor images) =>
        amn is null ? null : PatchLayout.PoolPerPatch(amn.forward(images), mae.Architecture.PatchSize);
}
