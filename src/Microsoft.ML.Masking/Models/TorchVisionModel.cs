namespace Microsoft.ML.Masking.Models;

/// <summary>The TorchVision (TorchSharp) classifiers whose description can be saved into model.zip (<see cref="TorchVisionArchitecture"/>).</summary>
public enum TorchVisionModel
{
    /// <summary><c>torchvision.models.vgg11</c>.</summary>
    Vgg11,
    /// <summary><c>torchvision.models.vgg11_bn</c>.</summary>
    Vgg11BatchNorm,
    /// <summary><c>torchvision.models.vgg13</c>.</summary>
    Vgg13,
    /// <summary><c>torchvision.models.vgg13_bn</c>.</summary>
    Vgg13BatchNorm,
    /// <summary><c>torchvision.models.vgg16</c>.</summary>
    Vgg16,
    /// <summary><c>torchvision.models.vgg16_bn</c>.</summary>
    Vgg16BatchNorm,
    /// <summary><c>torchvision.models.vgg19</c>.</summary>
    Vgg19,
    /// <summary><c>torchvision.models.vgg19_bn</c>.</summary>
    Vgg19BatchNorm,
    /// <summary><c>torchvision.models.alexnet</c>.</summary>
    AlexNet,
    /// <summary><c>torchvision.models.mobilenet_v2</c> (any width multiplier: <see cref="TorchVisionArchitecture.WidthMultiplier"/>).</summary>
    MobileNetV2,
    /// <summary><c>torchvision.models.mobilenet_v3_small</c> (another class count: the factory's head replaced, see <see cref="TorchVisionArchitecture.Build"/>).</summary>
    MobileNetV3Small,
    /// <summary><c>torchvision.models.mobilenet_v3_large</c> (another class count: the factory's head replaced, see <see cref="TorchVisionArchitecture.Build"/>).</summary>
    MobileNetV3Large,
}
