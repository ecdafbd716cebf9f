using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Masking.Ensemble.Engine;

/// <summary>
/// The spatial gates of <see cref="EnsembleGating.FixedSpatial"/> and <see cref="EnsembleGating.LearnedSpatial"/>. Channel
/// identities differ between independently trained members, but positions do not: position (y, x) of every member's last
/// feature map looks at the same part of the same image. So each earlier member j says, per input, where its evidence for
/// its own predicted class k̂ lies: its class-evidence map E_j[y, x] = Σ_c W_j[k̂, c]·a_j[c, y, x] (a_j its gated last
/// feature map; E_j sums to (logit − bias)·h·w, the spatial counterpart of the channel contributions), turned into a
/// concentration R_j = h·w·max(E_j, 0) / Σ max(E_j, 0), which is 1 everywhere when the positive evidence is spread
/// evenly (and, by definition, when there is none) and h·w at a position that holds all of it.
/// <para>The fixed rule gates member i's map by g = sigmoid((θ − R̄)/T), R̄ the earlier members' mean concentration
/// (bilinearly resized to member i's map when the sizes differ): a fixed, monotone decreasing function with threshold θ
/// (the concentration at which the gate is ½) and temperature T. It closes the positions the earlier members relied on,
/// so member i has to classify from the rest of the image, at training and at inference alike.</para>
/// </summary>
internal static class SpatialGateRule
{
    /// <summary>
    /// Concentrations [N, h, w] of the class evidence of a gated feature map [N, C, h, w] for <paramref name="classes"/>
    /// [N] (int64) under class weights [K, C].
    /// </summary>
    public static Tensor Concentration(Tensor gatedMap, Tensor classWeights, Tensor classes)
    {
        using var scope = NewDisposeScope();
        long n = gatedMap.shape[0], c = gatedMap.shape[1], positions = gatedMap.shape[2] * gatedMap.shape[3];
        var evidence = gatedMap.mul(classWeights.index_select(0, classes).view(n, c, 1, 1)).sum(1).relu();  // [N, h, w]
        var total = evidence.sum([1, 2], keepdim: true);
        var spread = evidence.div(total.ClampMin(1e-30)).Times(positions);
        return where(total.GreaterThan(0), spread, ones_like(spread)).MoveToOuterDisposeScope();
    }

    /// <summary>The earlier members' concentrations [N, members, h', w'] resized to [N, members, height, width] (bilinear; unchanged when equal).</summary>
    public static Tensor Resize(Tensor concentrations, long height, long width) =>
        concentrations.shape[2] == height && concentrations.shape[3] == width ? concentrations
            : F.interpolate(concentrations, size: [height, width], mode: InterpolationMode.Bilinear, align_corners: false);

    /// <summary>
    /// The fixed gate [N, height, width] in (0, 1): sigmoid((θ − R̄)/T) of the mean over members of
    /// <paramref name="concentrations"/> [N, members, h', w'].
    /// </summary>
    public static Tensor Gate(Tensor concentrations, long height, long width, double threshold, double temperature)
    {
        using var scope = NewDisposeScope();
        var mean = Resize(concentrations, height, width).mean([1]);
        return mean.neg().Plus(threshold).DividedBy(temperature).sigmoid().MoveToOuterDisposeScope();
    }

    /// <summary>The fixed gate's value where every earlier member's evidence is spread evenly (or absent): sigmoid((θ − 1)/T).</summary>
    public static double OpenValue(double threshold, double temperature) => 1 / (1 + Math.Exp(-(threshold - 1) / temperature));
}
