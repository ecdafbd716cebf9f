using Microsoft.ML.Masking.LayerMasking.Engine.Nodes;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Models.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.LayerMasking.Engine;

/// <summary>
/// Reads a TorchSharp module tree into the layer graph that layer masking runs. The graph holds references to
/// the module's own parameters (nothing is copied), so a pretrained network is layer-masked as it is.
/// </summary>
/// <remarks>
/// <para>A Sequential is read child by child; a network whose <c>forward</c> calls functions between its children
/// (torchvision's <c>flatten(1)</c>, MobileNetV2's functional global pool) is read in the order its forward runs,
/// with those functions as graph nodes (<see cref="ChildrenInForwardOrder"/>): TorchVision's ResNet, VGG, AlexNet,
/// MobileNetV2 and MobileNetV3, and the library's <see cref="Models.ResNet"/>.</para>
/// <para>Blocks with more than one path are read by type: a residual block (ResNet's BasicBlock and Bottleneck,
/// MobileNet's InvertedResidual) becomes a <see cref="ResidualNode"/>, torchvision's SqueezeExcitation a
/// <see cref="SqueezeExcitationNode"/>. Any other module is an error naming its path: nothing runs unmasked.</para>
/// <para>A network imported from ONNX (<see cref="OnnxNetwork"/>) is read from its layer DAG by <see cref="OnnxGraphCompiler"/>.</para>
/// </remarks>
internal static class NetworkGraph
{
    /// <summary>What <see cref="Compile"/> accepts, for error messages.</summary>
    public const string SupportedModules =
        "Sequential; the library's ResNet and TorchVision's ResNet/ResNeXt/Wide-ResNet, VGG (with or without BatchNorm), AlexNet, " +
        "MobileNetV2 and MobileNetV3 (with their BasicBlock, Bottleneck, InvertedResidual and SqueezeExcitation blocks); " +
        "Conv2d (zero padding; any kernel, stride, dilation and groups), BatchNorm2d, ReLU, ReLU6, Sigmoid, Hardsigmoid, Hardswish, SiLU, " +
        "GELU, Tanh, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten, Linear, Dropout, Dropout2d, Identity";

    /// <summary>Builds the graph of <paramref name="network"/>.</summary>
    /// <exception cref="NotSupportedException">A module layer masking cannot handle; the message names it.</exception>
    public static ChainNode Compile(nn.Module network, bool foldBatchNorm)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (network is OnnxNetwork onnx)
            return OnnxGraphCompiler.Compile(onnx, foldBatchNorm);
        return Chain("", ChildrenInForwardOrder("", network), foldBatchNorm);
    }

    /// <summary>One step of a forward pass: a child module, or a function the parent's forward applies between children.</summary>
    private readonly record struct Step(string Path, nn.Module? Module, GraphNode? Function)
    {
        public static Step Of(string path, nn.Module module) => new(path, module, null);
    }

    /// <summary>
    /// The steps of <paramref name="module"/>'s forward pass in order. For the torchvision classifiers this restates
    /// their forward: features → avgpool → flatten(1) → classifier (VGG, AlexNet, MobileNetV3; MobileNetV2 pools with
    /// <c>adaptive_avg_pool2d(x, 1)</c> instead of a module).
    /// </summary>
    private static IReadOnlyList<Step> ChildrenInForwardOrder(string path, nn.Module module)
    {
        if (module is Sequential || IsResNet(module))
            return module.named_children().Select(c => Step.Of(Join(path, c.name), c.module)).ToList();
        var children = module.named_children().ToDictionary(c => c.name, c => c.module);
        Step Child(string name) => children.TryGetValue(name, out var m) && m is not null ? Step.Of(Join(path, name), m)
            : throw new NotSupportedException($"Module '{Describe(path)}' ({module.GetType().Name}) has no child '{name}', so its forward pass is not the torchvision one layer masking knows.");
        Step Flatten() => new(Join(path, "flatten"), null, new FlattenNode(Join(path, "flatten"), 1, -1));
        return module switch
        {
            VGG or AlexNet or MobileNetV3 => [Child("features"), Child("avgpool"), Flatten(), Child("classifier")],
            MobileNetV2 => [Child("features"), new(Join(path, "avgpool"), null, new GlobalAveragePoolNode(Join(path, "avgpool"))), Flatten(), Child("classifier")],
            // A single leaf module is a chain of one.
            _ => [Step.Of(path, module)],
        };
    }

    private static ChainNode Chain(string path, IReadOnlyList<Step> steps, bool fold)
    {
        var nodes = new List<GraphNode>();
        for (int i = 0; i < steps.Count; i++)
        {
            var (stepPath, child, function) = steps[i];
            if (function is not null)
            {
                nodes.Add(function);
            }
            else if (child is Conv2d conv)
            {
                // A BatchNorm right after a convolution is part of it (and may be folded into its weights).
                var norm = i + 1 < steps.Count ? steps[i + 1].Module as BatchNorm2d : null;
                nodes.Add(Convolution(stepPath, conv, norm, fold));
                if (norm is not null) i++;
            }
            else
            {
                nodes.Add(Node(stepPath, child!, fold));
            }
        }
        return new ChainNode(path, nodes);
    }

    private static GraphNode Node(string path, nn.Module module, bool fold) => module switch
    {
        Sequential or VGG or AlexNet or MobileNetV2 or MobileNetV3 => Chain(path, ChildrenInForwardOrder(path, module), fold),
        _ when IsResNet(module) => Chain(path, ChildrenInForwardOrder(path, module), fold),
        _ when IsResidualBlock(module) => Residual(path, module, fold),
        _ when IsInvertedResidual(module, out var body) => InvertedResidual(path, module, body, fold),
        torchvision.SqueezeExcitation se => SqueezeExcitation(path, se),
        Conv2d c => Convolution(path, c, null, fold),
        BatchNorm2d bn => new BatchNormNode(path, bn),
        MaxPool2d p => new MaxPoolNode(path, p),
        AvgPool2d p => new AveragePoolNode(path, p),
        AdaptiveAvgPool2d a when a.output_size.All(s => s == 1) => new GlobalAveragePoolNode(path),
        AdaptiveAvgPool2d a when a.output_size.Length == 2 && a.output_size.All(s => s > 0) => new AdaptiveAveragePoolNode(path, a.output_size),
        Flatten f => new FlattenNode(path, f.start_dim, f.end_dim),
        Linear l => new LinearNode(path, l),
        Dropout or Dropout2d or Identity => new PassThroughNode(path),
        _ => ActivationNode.FromModule(path, module) ?? throw Unsupported(path, module),
    };

    private static ConvolutionNode Convolution(string path, Conv2d conv, BatchNorm2d? norm, bool fold)
    {
        if (conv.transposed)
            throw new NotSupportedException($"Layer masking does not support transposed convolutions (module '{path}').");
        if (conv.padding_mode != TorchSharp.PaddingModes.Zeros)
            throw new NotSupportedException($"Layer masking supports only zero padding; module '{path}' uses {conv.padding_mode}.");
        return new ConvolutionNode(path, conv, norm, fold);
    }

    private static ResidualNode Residual(string path, nn.Module block, bool fold)
    {
        var children = block.named_children().ToDictionary(c => c.name, c => c.module);
        Conv2d Conv(string name) => children.TryGetValue(name, out var m) && m is Conv2d c ? c
            : throw new NotSupportedException($"Residual block '{path}' has no Conv2d '{name}'.");
        BatchNorm2d Norm(string name) => children.TryGetValue(name, out var m) && m is BatchNorm2d b ? b
            : throw new NotSupportedException($"Residual block '{path}' has no BatchNorm2d '{name}'.");

        // torchvision order: conv1-bn1-relu-conv2-bn2[-relu-conv3-bn3], + shortcut, relu.
        var main = new List<GraphNode>
        {
            Convolution(Join(path, "conv1"), Conv("conv1"), Norm("bn1"), fold),
            ActivationNode.Relu(Join(path, "relu")),
            Convolution(Join(path, "conv2"), Conv("conv2"), Norm("bn2"), fold),
        };
        if (children.ContainsKey("conv3"))
        {
            main.Add(ActivationNode.Relu(Join(path, "relu")));
            main.Add(Convolution(Join(path, "conv3"), Conv("conv3"), Norm("bn3"), fold));
        }
        ChainNode? shortcut = null;
        if (children.TryGetValue("downsample", out var downsample) && downsample is not null)
        {
            var ds = Join(path, "downsample");
            shortcut = Chain(ds, ChildrenInForwardOrder(ds, downsample), fold);
        }
        return new ResidualNode(path, new ChainNode(path, main), shortcut);
    }

    /// <summary>
    /// MobileNet's InvertedResidual: its body (V2's <c>conv</c>, V3's <c>block</c>) plus, when its forward adds one,
    /// the identity shortcut, with no activation after the sum. torchvision adds it when <c>use_res_connect</c>
    /// (stride 1 and as many output channels as input channels); the field is read as the block's forward reads it.
    /// </summary>
    private static GraphNode InvertedResidual(string path, nn.Module block, (string Name, nn.Module Module) body, bool fold)
    {
        var bodyPath = Join(path, body.Name);
        var chain = Chain(bodyPath, ChildrenInForwardOrder(bodyPath, body.Module), fold);
        var field = block.GetType().GetField("use_res_connect", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic);
        if (field?.GetValue(block) is not bool residual)
            throw new NotSupportedException($"Inverted residual block '{Describe(path)}' ({block.GetType().FullName}) has no use_res_connect field, so whether its forward adds the input is unknown.");
        return residual ? new ResidualNode(path, chain, shortcut: null, relu: false) : chain;
    }

    private static SqueezeExcitationNode SqueezeExcitation(string path, torchvision.SqueezeExcitation se)
    {
        var children = se.named_children().ToDictionary(c => c.name, c => c.module);
        T Child<T>(string name) where T : nn.Module => children.TryGetValue(name, out var m) && m is T t ? t
            : throw new NotSupportedException($"Squeeze-and-excitation block '{Describe(path)}' has no {typeof(T).Name} '{name}'.");
        ActivationNode Activation(string name) => ActivationNode.FromModule(Join(path, name), Child<nn.Module>(name))
            ?? throw Unsupported(Join(path, name), children[name]);
        var reduce = Child<Conv2d>("fc1");
        var expand = Child<Conv2d>("fc2");
        if (Child<AdaptiveAvgPool2d>("avgpool").output_size.Any(s => s != 1))
            throw new NotSupportedException($"Squeeze-and-excitation block '{Describe(path)}' must squeeze to 1×1.");
        if (reduce.kernel_size.Any(k => k != 1) || expand.kernel_size.Any(k => k != 1))
            throw new NotSupportedException($"Squeeze-and-excitation block '{Describe(path)}' must excite with 1×1 convolutions.");
        return new SqueezeExcitationNode(path, reduce, Activation("activation"), expand, Activation("scale_activation"));
    }

    private static bool IsInvertedResidual(nn.Module module, out (string Name, nn.Module Module) body)
    {
        body = default;
        var name = module.GetType().FullName;
        string? child = name switch
        {
            "TorchSharp.Modules.MobileNetV2+InvertedResidual" => "conv",
            "TorchSharp.Modules.MobileNetV3+InvertedResidual" => "block",
            _ => null,
        };
        if (child is null) return false;
        var found = module.named_children().FirstOrDefault(c => c.name == child);
        if (found.module is null)
            throw new NotSupportedException($"Inverted residual block {name} has no child '{child}'.");
        body = (child, found.module);
        return true;
    }

    private static bool IsResNet(nn.Module module) =>
        module is Models.ResNet or TorchSharp.Modules.ResNet;

    private static bool IsResidualBlock(nn.Module module)
    {
        if (module is ResidualBlock) return true;
        var name = module.GetType().FullName;
        return name is "TorchSharp.Modules.ResNet+BasicBlock" or "TorchSharp.Modules.ResNet+Bottleneck";
    }

    private static NotSupportedException Unsupported(string path, nn.Module module) =>
        new($"Layer masking does not support module '{Describe(path)}' of type {module.GetType().Name}. " +
            $"Supported: {SupportedModules}.");

    private static string Describe(string path) => path.Length == 0 ? "<root>" : path;

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";
}
