using System.Text.Json;

namespace Microsoft.ML.Masking.Models;

/// <summary>
/// Everything needed to rebuild a <see cref="ResNet"/> before its weights are loaded. Serialised next to the
/// weights when a model is saved, so the weights file (safetensors) plus this record are the whole model.
/// </summary>
public sealed record ResNetArchitecture
{
    /// <summary>Residual block design. Default: <see cref="ResidualBlockKind.Basic"/>.</summary>
    public ResidualBlockKind Block { get; init; } = ResidualBlockKind.Basic;

    /// <summary>Number of blocks in each stage; the first stage keeps the resolution, each later one halves it. Default: [2, 2, 2, 2] (ResNet-18).</summary>
    public int[] Layers { get; init; } = [2, 2, 2, 2];

    /// <summary>Channels of the first stage; each later stage doubles them. Default: 64.</summary>
    public int BaseWidth { get; init; } = 64;

    /// <summary>Bottleneck inner-width multiplier relative to <see cref="BaseWidth"/> per group (64 = ResNet-50, 128 = Wide ResNet-50-2). Default: 64.</summary>
    public int WidthPerGroup { get; init; } = 64;

    /// <summary>Groups of the 3×3 bottleneck convolution (32 for ResNeXt-50 32×4d). Default: 1.</summary>
    public int Groups { get; init; } = 1;

    /// <summary>Image channels. Default: 3.</summary>
    public int InputChannels { get; init; } = 3;

    /// <summary>
    /// Number of classes of the final linear layer. Default: 1000 (ImageNet, as torchvision and
    /// <see cref="ResNet18"/>/<see cref="ResNet34"/>/<see cref="ResNet50"/>); the ResNet trainer sets it from the label.
    /// </summary>
    public int NumClasses { get; init; } = DefaultNumClasses;

    /// <summary>The one default of <see cref="NumClasses"/>, shared by the record and the factory methods.</summary>
    private const int DefaultNumClasses = 1000;

    /// <summary>
    /// True: a 3×3 stride-1 stem and no max-pool, for 28–64 px images (CIFAR-style).
    /// False: the ImageNet stem (7×7 stride 2, then 3×3 stride-2 max-pool). Default: false.
    /// </summary>
    public bool SmallImageStem { get; init; }

    /// <summary>ResNet-18 (BasicBlock [2,2,2,2]).</summary>
    public static ResNetArchitecture ResNet18(int numClasses = DefaultNumClasses, int inputChannels = 3, bool smallImageStem = false) =>
        new() { Block = ResidualBlockKind.Basic, Layers = [2, 2, 2, 2], NumClasses = numClasses, InputChannels = inputChannels, SmallImageStem = smallImageStem };

    /// <summary>ResNet-34 (BasicBlock [3,4,6,3]).</summary>
    public static ResNetArchitecture ResNet34(int numClasses = DefaultNumClasses, int inputChannels = 3, bool smallImageStem = false) =>
        new() { Block = ResidualBlockKind.Basic, Layers = [3, 4, 6, 3], NumClasses = numClasses, InputChannels = inputChannels, SmallImageStem = smallImageStem };

    /// <summary>ResNet-50 (Bottleneck [3,4,6,3]).</summary>
    public static ResNetArchitecture ResNet50(int numClasses = DefaultNumClasses, int inputChannels = 3, bool smallImageStem = false) =>
        new() { Block = ResidualBlockKind.Bottleneck, Layers = [3, 4, 6, 3], NumClasses = numClasses, InputChannels = inputChannels, SmallImageStem = smallImageStem };

    /// <summary>Checks that every field is usable and says which one is not.</summary>
    public void Validate()
    {
        if (Layers is null || Layers.Length == 0 || Layers.Any(n => n < 1))
            throw new ArgumentException("ResNetArchitecture.Layers needs at least one stage, each with at least one block.");
        if (BaseWidth < 1) throw new ArgumentOutOfRangeException(nameof(BaseWidth), BaseWidth, "must be positive");
        if (WidthPerGroup < 1) throw new ArgumentOutOfRangeException(nameof(WidthPerGroup), WidthPerGroup, "must be positive");
        if (Groups < 1) throw new ArgumentOutOfRangeException(nameof(Groups), Groups, "must be positive");
        if (InputChannels < 1) throw new ArgumentOutOfRangeException(nameof(InputChannels), InputChannels, "must be positive");
        if (NumClasses < 1) throw new ArgumentOutOfRangeException(nameof(NumClasses), NumClasses, "must be positive");
        if (Block == ResidualBlockKind.Basic && (Groups != 1 || WidthPerGroup != 64))
            throw new ArgumentException("Basic blocks support only Groups = 1 and WidthPerGroup = 64 (as in torchvision).");
    }

    /// <summary>Kernel width of the first convolution: 3 with <see cref="SmallImageStem"/>, 7 otherwise.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int StemKernelSize => SmallImageStem ? 3 : 7;

    /// <summary>Channels of the final feature vector (the input of the classifier).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int FeatureChannels => BaseWidth * (1 << (Layers.Length - 1)) * (Block == ResidualBlockKind.Bottleneck ? 4 : 1);

    /// <summary>Serialises to JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>
    /// Value equality over every field, <see cref="Layers"/> compared element by element (a record compares arrays by
    /// reference, so two <c>ResNet18()</c> would otherwise differ).
    /// </summary>
    public bool Equals(ResNetArchitecture? other) =>
        other is not null && Block == other.Block && BaseWidth == other.BaseWidth && WidthPerGroup == other.WidthPerGroup &&
        Groups == other.Groups && InputChannels == other.InputChannels && NumClasses == other.NumClasses &&
        SmallImageStem == other.SmallImageStem && (Layers ?? []).AsSpan().SequenceEqual(other.Layers ?? []);

    /// <summary>A hash consistent with <see cref="Equals(ResNetArchitecture?)"/>.</summary>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Block);
        foreach (int blocks in Layers ?? [])
            hash.Add(blocks);
        hash.Add(BaseWidth);
        hash.Add(WidthPerGroup);
        hash.Add(Groups);
        hash.Add(InputChannels);
        hash.Add(NumClasses);
        hash.Add(SmallImageStem);
        return hash.ToHashCode();
    }

    /// <summary>
    /// The architecture of a TorchVision ResNet, ResNeXt or Wide ResNet (<c>torchvision.models.resnet18()</c>,
    /// <c>resnext50_32x4d()</c>, <c>wide_resnet50_2()</c>, …) as a <see cref="ResNet"/> that computes the same function
    /// with the same parameter names; null when <paramref name="network"/> is not a TorchVision ResNet. Checked by
    /// building that <see cref="ResNet"/> (the global random state is restored after) and comparing
    /// every parameter and buffer shape and every convolution's, pool's and BatchNorm's settings.
    /// </summary>
    /// <exception cref="NotSupportedException">A TorchVision ResNet no <see cref="ResNetArchitecture"/> describes (dilated
    /// stages from <c>replace_stride_with_dilation</c>, a replaced layer); the message names the first difference.</exception>
    public static ResNetArchitecture? Recognise(TorchSharp.torch.nn.Module network)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (network is not TorchSharp.Modules.ResNet)
            return null;
        var children = network.named_children().ToDictionary(c => c.name, c => c.module);
        var stages = new List<TorchSharp.torch.nn.Module[]>();
        for (int i = 1; children.TryGetValue($"layer{i}", out var stage); i++)
            stages.Add(stage.named_children().Select(c => c.module).ToArray());
        if (children.GetValueOrDefault("conv1") is not TorchSharp.Modules.Conv2d stem || children.GetValueOrDefault("fc") is not TorchSharp.Modules.Linear fc
            || stages.Count == 0 || stages.Any(s => s.Length == 0))
            throw new NotSupportedException("The TorchVision ResNet has no conv1, fc or layer1… stages, so it is not the layout a ResNetArchitecture describes.");
        var first = stages[0][0];
        bool bottleneck = first.GetType().Name == "Bottleneck";
        var blockConvolutions = first.named_children().ToDictionary(c => c.name, c => c.module);
        int baseWidth = (int)stem.out_channels;
        int groups = bottleneck && blockConvolutions.GetValueOrDefault("conv2") is TorchSharp.Modules.Conv2d middle ? (int)middle.groups : 1;
        int width = bottleneck && blockConvolutions.GetValueOrDefault("conv1") is TorchSharp.Modules.Conv2d reduce ? (int)reduce.out_channels : baseWidth;
        var architecture = new ResNetArchitecture
        {
            Block = bottleneck ? ResidualBlockKind.Bottleneck : ResidualBlockKind.Basic,
            Layers = stages.Select(s => s.Length).ToArray(),
            BaseWidth = baseWidth,
            Groups = groups,
            WidthPerGroup = width * 64 / (baseWidth * groups),
            InputChannels = (int)stem.in_channels,
            NumClasses = (int)fc.weight.shape[0],
            SmallImageStem = stem.kernel_size[0] == 3,
        };
        var difference = ModuleLayout.FirstDifference(network, () => new ResNet(architecture));
        if (difference is not null)
            throw new NotSupportedException(
                $"The TorchVision ResNet is not a network a ResNetArchitecture can rebuild ({architecture.Block} {string.Join("-", architecture.Layers)}, " +
                $"{architecture.Groups} group(s), width per group {architecture.WidthPerGroup}): {difference}.");
        return architecture;
    }

    /// <summary>Reads the JSON written by <see cref="ToJson"/>.</summary>
    public static ResNetArchitecture FromJson(string json) =>
        JsonSerializer.Deserialize<ResNetArchitecture>(json) ?? throw new FormatException("Empty ResNet architecture record.");
}
