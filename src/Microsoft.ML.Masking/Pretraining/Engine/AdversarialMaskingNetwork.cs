using Microsoft.ML.Masking.Core;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Pretraining.Engine;

/// <summary>
/// The Adversarial Masking Network (AMN) of the seed document: three 3 × 3 convolutions with stride 1 and padding 1,
/// ReLU between them and a sigmoid on the last, giving one masking score in (0, 1) per pixel; a patch's score is the
/// mean of its pixels' scores.
/// </summary>
/// <remarks>
/// The convolutions run on channels-last activations (<see cref="ChannelsLast"/>); the weights stay in the default
/// layout. Same function, another summation order: on the CPU, libtorch's input gradient of these thin 3 × 3
/// convolutions in the default layout cost 12–14 ms per 128 images of 28 × 28 whatever the channel count, against
/// 1–3 ms in channels-last (docs/benchmarks.md, MAE profile).
/// </remarks>
internal sealed class AdversarialMaskingNetwork : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Conv2d conv3;

    /// <summary>Creates the network with weights drawn from <paramref name="generator"/>.</summary>
    /// <param name="channels">Input colour planes.</param>
    /// <param name="hiddenChannels">Feature maps of the first two convolutions.</param>
    /// <param name="generator">Source of the initial weights.</param>
    public AdversarialMaskingNetwork(int channels, int hiddenChannels, Generator generator) : base(nameof(AdversarialMaskingNetwork))
    {
        if (hiddenChannels < 1)
            throw new ArgumentOutOfRangeException(nameof(hiddenChannels), hiddenChannels, "The masking network needs at least 1 hidden channel.");
        conv1 = nn.Conv2d(channels, hiddenChannels, 3, stride: 1, padding: 1);
        conv2 = nn.Conv2d(hiddenChannels, hiddenChannels, 3, stride: 1, padding: 1);
        conv3 = nn.Conv2d(hiddenChannels, 1, 3, stride: 1, padding: 1);
        RegisterComponents();
        using var _ = no_grad();
        foreach (var conv in new[] { conv1, conv2, conv3 })
        {
            // PyTorch's default (Kaiming-uniform with a = √5 ⇒ bound 1/√fan_in), from the private generator.
            double bound = 1.0 / Math.Sqrt(conv.weight[0].numel());
            conv.weight.uniform_(-bound, bound, generator);
            conv.bias!.uniform_(-bound, bound, generator);
        }
    }

    /// <summary>Per-pixel masking scores in (0, 1), [N, 1, H, W], from images [N, C, H, W].</summary>
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.relu(conv1.forward(ChannelsLast.Of(images)));
        x = nn.functional.relu(conv2.forward(ChannelsLast.Of(x)));
        return conv3.forward(x).sigmoid().MoveToOuterDisposeScope();
    }
}
