using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Models;

/// <summary>
/// Which TorchVision classifier a network is, so that model.zip can rebuild it before loading its weights: the
/// factory (<see cref="Model"/>) and its class count. <see cref="Microsoft.ML.Masking.Core.ImageClassifier"/> recognises
/// it from the module when a pipeline holding the classifier is saved.
/// </summary>
/// <param name="Model">The torchvision factory.</param>
/// <param name="NumClasses">Outputs of the final Linear layer.</param>
public sealed record TorchVisionArchitecture(TorchVisionModel Model, int NumClasses = 1000)
{
    /// <summary>Builds the network with fresh weights (evaluation mode, CPU).</summary>
    /// <exception cref="NotSupportedException">A MobileNetV3 with other than 1000 classes (TorchSharp's factory has no class count).</exception>
    public nn.Module<Tensor, Tensor> Build()
    {
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
            TorchVisionModel.MobileNetV2 => torchvision.models.mobilenet_v2(NumClasses),
            TorchVisionModel.MobileNetV3Small => ThousandClasses(torchvision.models.mobilenet_v3_small),
            TorchVisionModel.MobileNetV3Large => ThousandClasses(torchvision.models.mobilenet_v3_large),
            _ => throw new ArgumentOutOfRangeException(nameof(Model), Model, "Unknown TorchVision model."),
        };
        network.eval();
        return network;
    }

    private nn.Module<Tensor, Tensor> ThousandClasses(Func<MobileNetV3> factory) => NumClasses == 1000 ? factory()
        : throw new NotSupportedException($"TorchSharp's {Model} factory builds 1000 classes only; this network has {NumClasses}.");

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
        int classes = (int)(network.modules().OfType<Linear>().LastOrDefault()?.out_features
            ?? throw new NotSupportedException($"The {network.GetType().Name} has no Linear layer."));
        var architecture = new TorchVisionArchitecture(model.Value, classes);
        var state = torch.get_rng_state();
        try
        {
            using var candidate = architecture.Build();
            var expected = Shapes(candidate);
            var actual = Shapes(network);
            var differing = expected.Keys.Union(actual.Keys).FirstOrDefault(k =>
                !expected.TryGetValue(k, out var e) || !actual.TryGetValue(k, out var a) || !e.SequenceEqual(a));
            if (differing is not null)
                throw new NotSupportedException(
                    $"The network is a {network.GetType().Name} but not torchvision's {model} with {classes} classes: parameter '{differing}' is " +
                    $"{Describe(actual, differing)} here and {Describe(expected, differing)} in the factory's network, so it could not be rebuilt on load.");
            return architecture;
        }
        finally
        {
            torch.set_rng_state(state);
            state.Dispose();
        }
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

    private static Dictionary<string, long[]> Shapes(nn.Module module) =>
        module.state_dict().ToDictionary(p => p.Key, p => p.Value.shape);

    private static string Describe(Dictionary<string, long[]> shapes, string key) =>
        shapes.TryGetValue(key, out var s) ? $"[{string.Join(", ", s)}]" : "absent";
}
