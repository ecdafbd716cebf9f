using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core;

/// <summary>
/// Gives every BatchNorm2d of a randomly initialised network non-trivial running statistics and affine parameters
/// (a fresh network's are 0/1, so folding them into the convolutions would be exercised by nothing): the one helper the
/// tests and the samples' benchmarks use for random networks that behave like trained ones.
/// </summary>
internal static class RandomBatchNorm
{
    /// <summary>
    /// Draws, per BatchNorm channel from one generator seeded with <paramref name="seed"/>: running mean N(0, 0.2²),
    /// running variance U(0.5, 1.5), scale U(0.3, 0.7), shift N(0, 0.2²). The scales stay below one so that deep random
    /// residual stacks keep logits of order one, as trained networks have; absolute tolerances such as 1e-4 only mean
    /// something at that scale. Leaves the network in evaluation mode.
    /// </summary>
    /// <returns><paramref name="network"/>, changed in place.</returns>
    public static T Apply<T>(T network, long seed) where T : nn.Module
    {
        ArgumentNullException.ThrowIfNull(network);
        using var generator = new Generator((ulong)seed);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        foreach (var (_, m) in network.named_modules())
        {
            if (m is not BatchNorm2d bn) continue;
            long c = bn.num_features;
            bn.running_mean!.copy_(randn(c, generator: generator).Times(0.2));
            bn.running_var!.copy_(rand(c, generator: generator).Plus(0.5));
            bn.weight!.copy_(rand(c, generator: generator).Times(0.4).Plus(0.3));
            bn.bias!.copy_(randn(c, generator: generator).Times(0.2));
        }
        network.eval();
        return network;
    }
}
