using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Models;
using TorchSharp;
using TorchSharp.Modules;
using ResNet = Microsoft.ML.Masking.Models.ResNet;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.LayerMasking;

/// <summary>Small random networks and masks for the layer-masking tests.</summary>
internal static class TestNetworks
{
    /// <summary>The library's one helper (<see cref="RandomBatchNorm.Apply"/>): random BatchNorm statistics, evaluation mode.</summary>
    public static T WithRandomBatchNorm<T>(T network, long seed) where T : nn.Module => RandomBatchNorm.Apply(network, seed);

    public static ResNet SmallBasic(int inputSize = 32) => WithRandomBatchNorm(
        new ResNet(new ResNetArchitecture { Block = ResidualBlockKind.Basic, Layers = [1, 2, 1], BaseWidth = 8, NumClasses = 5, SmallImageStem = inputSize <= 32 }, seed: 1), 11);

    public static ResNet SmallBottleneck() => WithRandomBatchNorm(
        new ResNet(new ResNetArchitecture { Block = ResidualBlockKind.Bottleneck, Layers = [2, 1, 2], BaseWidth = 8, NumClasses = 7 }, seed: 2), 12);

    /// <summary>A ResNeXt-style net: grouped 3×3 bottleneck convolutions.</summary>
    public static ResNet SmallGrouped() => WithRandomBatchNorm(
        new ResNet(new ResNetArchitecture { Block = ResidualBlockKind.Bottleneck, Layers = [1, 1], BaseWidth = 16, Groups = 2, WidthPerGroup = 64, NumClasses = 4, SmallImageStem = true }, seed: 3), 16);

    public static nn.Module TorchVisionResNet18() => WithRandomBatchNorm(torchvision.models.resnet18(num_classes: 6), 13);

    public static nn.Module TorchVisionResNet50() => WithRandomBatchNorm(torchvision.models.resnet50(num_classes: 4), 14);

    public static Sequential PlainStack() => WithRandomBatchNorm(nn.Sequential(
        ("conv", nn.Conv2d(3, 6, 5, padding: 2)),
        ("bn", nn.BatchNorm2d(6)),
        ("act", nn.ReLU()),
        ("pool", nn.MaxPool2d(2)),
        ("dilated", nn.Conv2d(6, 8, 3, padding: 2, dilation: 2)),
        ("act2", nn.ReLU()),
        ("bn2", nn.BatchNorm2d(8)),
        ("strided", nn.Conv2d(8, 8, 3, stride: 2, padding: 1)),
        ("act3", nn.ReLU()),
        ("gap", nn.AdaptiveAvgPool2d(1)),
        ("flat", nn.Flatten()),
        ("drop", nn.Dropout(0.5)),
        ("fc", nn.Linear(8, 3))), 15);

    /// <summary>Random patch keep-masks [batch, h, w]: each patch removed with probability <paramref name="removed"/>.</summary>
    public static Tensor PatchMasks(long batch, long size, long patch, double removed, long seed)
    {
        var g = new Generator((ulong)seed);
        long cells = (size + patch - 1) / patch;
        var coarse = rand(new long[] { batch, 1, cells, cells }, generator: g).ge(removed).to(ScalarType.Float32);
        return nn.functional.interpolate(coarse, scale_factor: [patch, patch], mode: InterpolationMode.Nearest)
            [.., 0, ..(int)size, ..(int)size].contiguous();
    }

    public static Tensor Images(long batch, long channels, long size, long seed) =>
        randn(new long[] { batch, channels, size, size }, generator: new Generator((ulong)seed));

    public static double MaxAbsDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();
}
