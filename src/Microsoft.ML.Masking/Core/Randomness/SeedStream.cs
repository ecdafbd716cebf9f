namespace Microsoft.ML.Masking.Core.Randomness;

/// <summary>
/// The first coordinate of every <see cref="SeedMixer.ForRow"/> call: one value per kind of draw, so features that
/// share a user seed and a row still draw unrelated numbers. Add a member for each new kind of draw; never
/// renumber one (saved models and reported results depend on the values).
/// </summary>
internal enum SeedStream : long
{
    /// <summary>The order in which an evaluation removes an image's segments (row, repeat).</summary>
    RemovalOrder = 1,

    /// <summary>The evaluators' noise baseline (row, repeat or variant, fraction), drawn per row by <see cref="RowNoise"/>.
    /// Until 2026-12-02 it was drawn per batch (first row of the batch), so its values depended on the batch size.</summary>
    Noise = 2,

    /// <summary>The patches a patch-grid mask transform removes (row).</summary>
    PatchMask = 3,

    /// <summary>The LayerMask transform's noise baseline (row): a row's noise does not depend on its batch.</summary>
    LayerMaskNoise = 4,

    /// <summary>NoiseTunnel's noise (row, sample).</summary>
    NoiseTunnel = 101,

    /// <summary>GradientSHAP's baselines and points on the path (row).</summary>
    GradientShap = 102,

    /// <summary>Random baselines of the gradient methods (row, draw).</summary>
    Baseline = 103,

    /// <summary>RISE's random masks (0, mask index): shared by every row.</summary>
    Rise = 104,

    /// <summary>LIME's segment samples (row, segment count).</summary>
    Lime = 105,

    /// <summary>KernelSHAP's coalition samples (row, segment count).</summary>
    KernelShap = 106,

    /// <summary>The noise baseline when perturbation methods score by removal (row, first sample).</summary>
    RemovalNoise = 107,

    /// <summary>Tie-breaking removal orders of the attribution metrics, per row.</summary>
    AttributionEvaluation = 108,

    /// <summary>Re-initialisation of the layers in the cascading randomisation check.</summary>
    AttributionRandomization = 109,

    /// <summary>The random pixel subsets of faithfulness correlation (row, run).</summary>
    FaithfulnessCorrelation = 110,

    /// <summary>The segment on/off patterns of the linearity-of-removal check (row).</summary>
    RemovalLinearity = 111,

    /// <summary>The Gaussian input perturbations of infidelity (row).</summary>
    Infidelity = 112,

    /// <summary>The uniform input noise of max-sensitivity (row, sample).</summary>
    MaxSensitivity = 113,

    /// <summary>
    /// The masks a pre-trained masked autoencoder draws for its reconstruction and diagnostics (hash of the row's
    /// pixels: a transformer's kernel does not see row positions).
    /// </summary>
    MaskedAutoencoderMask = 201,

    /// <summary>The seed of a dynamic-mask ensemble's member (member index; member 0 keeps the user seed).</summary>
    EnsembleMember = 301,
}
