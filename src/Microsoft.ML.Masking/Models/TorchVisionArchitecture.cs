using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Models;

/// <summary>
/// Which TorchVision classifier a network is, so that model.zip can rebuild it before loading its weights: the
/// factory (<see cref="Model"/>), its class count and, for MobileNetV2, its width multiplier.
/// <see cref="Microsoft.ML.Masking.Core.ImageClassifier"/> recognises it from the module when a pipeline holding the
/// classifier is saved. (TorchVision's ResNets are saved as a <see cref="ResNetArchitecture"/>: see
/// <see cref="ResNetArchitecture.Recognise"/>.)
/// </summary>
/// <param name="Model">The torchvision factory.</param>
/// <param name="NumClasses">Outputs of the final Linear layer.</param>
/// <param name="WidthMultiplier">MobileNetV2's <c>width_mult</c> (every layer's channels scaled by it, rounded to a
/// multiple of 8); 1 for every other model.</param>
public sealed record TorchVisionArchitecture(TorchVisionModel Model, int NumClasses = 1000, double WidthMultiplier = 1.0)
{
    /// <summary>
    /// Builds the network with fresh weights (evaluation mode, CPU). TorchSharp's MobileNetV3 factories build 1000
    /// classes only; for another <see cref="NumClasses"/> the final Linear layer is replaced by one of
    /// <see cref="NumClasses"/> outputs, initialised as the factory initialises it (normal, σ = 0.01, zero bias). This
    /// is also how to make a MobileNetV3 for another class count, before loading weights trained for it.
    /// </summary>
    /// <exception cref="NotSupportedException">A width multiplier other than 1 for a model other than MobileNetV2.</exception>
    public nn.Module<Tensor, Tensor> Build()
    {
        if (WidthMultiplier != 1.0 && Model != TorchVisionModel.MobileNetV2)
            throw new NotSupportedException($"Only MobileNetV2 takes a width multiplier; {Model} was given {WidthMultiplier.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
        nn.Module<Tensor, Tensor> network = Model switch
        {
            TorchVisionModel.Vgg11 => torchvision.models.vgg11(NumClasses),
            TorchVisionModel.Vgg11BatchNorm => torchvision.models.vgg11_bn(NumClasses),
            TorchVisionModel.Vgg13 => torchvision.models.vgg13(NumClasses),
            TorchVisionModel.Vgg13BatchNorm => torchvision.models.vgg13_bn(NumClasses),
            TorchVisionModel.Vgg16 => torchvision.models.vgg16(NumClasses),
            TorchVisionModel.Vgg16BatchNorm => torchvision.models.vgg16_bn(NumClasses),
            TorchVisionModel.Vgg19 => torchvision.models.vgg19(NumClasses),
            TorchVisionModel.Vgg19BatchNorm => torchvision.models.vgg19_bn(NumClasses),
            TorchVisionModel.AlexNet => torchvision.models.alexnet(NumClasses),
            TorchVisionModel.MobileNetV2 => torchvision.models.mobilenet_v2(NumClasses, WidthMultiplier),
            TorchVisionModel.MobileNetV3Small => WithClasses(torchvision.models.mobilenet_v3_small()),
            TorchVisionModel.MobileNetV3Large => WithClasses(torchvision.models.mobilenet_v3_large()),
            _ => throw new ArgumentOutOfRangeException(nameof(Model), Model, "Unknown TorchVision model."),
        };
        network.eval();
        return network;
    }

    /// <summary>Replaces the 1000-class final Linear of a factory network by one with <see cref="NumClasses"/> outputs.</summary>
    private MobileNetV3 WithClasses(MobileNetV3 network)
    {
        if (NumClasses == 1000) return network;
        var head = network.modules().OfType<Linear>().Last();
        using (torch.no_grad())
        {
            head.weight = nn.init.normal_(torch.empty(NumClasses, head.in_features), 0, 0.01).AsParameter();
            head.bias = torch.zeros(NumClasses).AsParameter();
        }
        head.out_features = NumClasses;
        return network;
    }

    /// <summary>
    /// The architecture of <paramref name="network"/>, checked by building it and comparing every parameter and buffer
    /// name and shape; null when the network is not one of <see cref="TorchVisionModel"/>. The global random state is
    /// restored after the check builds its candidate.
    /// </summary>
    /// <exception cref="NotSupportedException">The network has a TorchVision type but not a factory's layout (another
    /// width multiplier, a modified classifier); the message names the first differing parameter.</exception>
    public static TorchVisionArchitecture? Recognise(nn.Module network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var model = Family(network);
        if (model is null) return null;
        int classes = (int)(network.modules().OfType<Linear>().LastOrDefault()?.weight.shape[0]
            ?? throw new NotSupportedException($"The {network.GetType().Name} has no Linear layer."));
        var architecture = new TorchVisionArchitecture(model.Value, classes, model == TorchVisionModel.MobileNetV2 ? MobileNetV2Width(network) : 1.0);
        var difference = ModuleLayout.FirstDifference(network, architecture.Build);
        if (difference is not null)
            throw new NotSupportedException(
                $"The network is a {network.GetType().Name} but not torchvision's {Describe(architecture)}: {difference}, so it could not be rebuilt on load.");
        return architecture;
    }

    private static string Describe(TorchVisionArchitecture a) =>
        $"{a.Model} with {a.NumClasses} classes" +
        (a.Model == TorchVisionModel.MobileNetV2 ? $" and width multiplier {a.WidthMultiplier.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "");

    /// <summary>
    /// MobileNetV2's channel counts at the stem, at the end of each of its seven stages and at the last convolution,
    /// for width multiplier <paramref name="width"/> (TorchSharp's rounding: to a multiple of 8, at least 8, never more
    /// than 10 % down).
    /// </summary>
    private static long[] MobileNetV2Channels(double width)
    {
        static long Divisible(double v)
        {
            long rounded = Math.Max(8, (long)(v + 4.0) / 8 * 8);
            return rounded < 0.9 * v ? rounded + 8 : rounded;
        }
        return [Divisible(32 * width), .. new long[] { 16, 24, 32, 64, 96, 160, 320 }.Select(c => Divisible(c * width)), Divisible(1280 * Math.Max(1.0, width))];
    }

    /// <summary>
    /// The width multiplier whose channel counts the network has, on a grid of 0.01 (else 0.001): any multiplier that
    /// reproduces them builds the same network. 1 when none does, so the layout check names what differs.
    /// The counts are read from weight shapes by name: the stem's output, each stage's output as the input of the
    /// next block's expansion (features 2, 4, 7, 11, 14, 17) or of the last convolution (18), and that convolution's output.
    /// </summary>
    private static double MobileNetV2Width(nn.Module network)
    {
        var shapes = network.state_dict().ToDictionary(p => p.Key, p => p.Value.shape);
        long? Dimension(string key, int dimension) => shapes.TryGetValue(key, out var s) && s.Length == 4 ? s[dimension] : null;
        long?[] read =
        [
            Dimension("features.0.0.weight", 0),
            .. new[] { 2, 4, 7, 11, 14, 17 }.Select(i => Dimension($"features.{i}.conv.0.0.weight", 1)),
            Dimension("features.18.0.weight", 1),
            Dimension("features.18.0.weight", 0),
        ];
        if (read.Any(c => c is null))
            return 1.0;
        var found = read.Select(c => c!.Value).ToArray();
        // The 320-channel stage gives the multiplier within 4/320; of the multipliers that give every count, take the
        // nearest to that estimate on the coarsest grid (1 for width 1, 0.5 for 0.5, and so on).
        double estimate = found[7] / 320.0;
        foreach (int steps in new[] { 100, 1000 })
        {
            var match = Enumerable.Range(1, 4 * steps).Select(k => (double)k / steps)
                .Where(w => Math.Abs(w - estimate) <= 0.05)
                .OrderBy(w => Math.Abs(w - estimate))
                .FirstOrDefault(w => MobileNetV2Channels(w).SequenceEqual(found));
            if (match > 0)
                return match;
        }
        return 1.0;
    }

    private static TorchVisionModel? Family(nn.Module network)
    {
        switch (network)
        {
            case VGG:
                int convolutions = network.modules().Count(m => m is Conv2d);
                bool norm = network.modules().Any(m => m is BatchNorm2d);
                return convolutions switch
                {
                    8 => norm ? TorchVisionModel.Vgg11BatchNorm : TorchVisionModel.Vgg11,
                    10 => norm ? TorchVisionModel.Vgg13BatchNorm : TorchVisionModel.Vgg13,
                    13 => norm ? TorchVisionModel.Vgg16BatchNorm : TorchVisionModel.Vgg16,
                    16 => norm ? TorchVisionModel.Vgg19BatchNorm : TorchVisionModel.Vgg19,
                    _ => throw new NotSupportedException($"A VGG with {convolutions} convolutions is none of torchvision's VGG-11/13/16/19."),
                };
            case AlexNet:
                return TorchVisionModel.AlexNet;
            case MobileNetV2:
                return TorchVisionModel.MobileNetV2;
            case MobileNetV3:
                // Small has 11 inverted residual blocks, Large 15; features also holds the stem and the last convolution.
                var features = network.named_children().FirstOrDefault(c => c.name == "features").module;
                int blocks = (features?.named_children().Count() ?? 0) - 2;
                return blocks switch
                {
                    11 => TorchVisionModel.MobileNetV3Small,
                    15 => TorchVisionModel.MobileNetV3Large,
                    _ => throw new NotSupportedException($"A MobileNetV3 with {blocks} blocks is neither torchvision's Small (11) nor Large (15)."),
                };
            default:
                return null;
        }
    }
}
