using Microsoft.ML.Masking.LayerMasking.Engine.Nodes;
using Microsoft.ML.Masking.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.LayerMasking.Engine;

/// <summary>
/// Reads a TorchSharp module tree into the layer graph that layer masking runs. The graph holds references to
/// the module's own parameters (nothing is copied), so a pretrained network is layer-masked as it is.
/// </summary>
internal static class NetworkGraph
{
    /// <summary>What <see cref="Compile"/> accepts, for error messages.</summary>
    public const string SupportedModules =
        "Sequential, torchvision-style ResNet (Microsoft.ML.Masking.Models.ResNet or TorchVision's) with BasicBlock or Bottleneck blocks, " +
        "Conv2d (zero padding), BatchNorm2d, ReLU, MaxPool2d, AdaptiveAvgPool2d(1), Flatten, Linear, Dropout, Identity";

    /// <summary>Builds the graph of <paramref name="network"/>.</summary>
    /// <exception cref="NotSupportedException">A module layer masking cannot handle; the message names it.</exception>
    public static ChainNode Compile(nn.Module network, bool foldBatchNorm)
    {
        ArgumentNullException.ThrowIfNull(network);
        return Chain("", ChildrenInForwardOrder("", network), foldBatchNorm);
    }

    private static IReadOnlyList<(string Path, nn.Module Module)> ChildrenInForwardOrder(string path, nn.Module module)
    {
        if (module is Sequential || IsResNet(module))
            return module.named_children().Select(c => (Join(path, c.name), c.module)).ToList();
        // A single leaf module is a chain of one.
        return [(path, module)];
    }

    private static ChainNode Chain(string path, IReadOnlyList<(string Path, nn.Module Module)> children, bool fold)
    {
        var nodes = new List<GraphNode>();
        for (int i = 0; i < children.Count; i++)
        {
            var (childPath, child) = children[i];
            if (child is Conv2d conv)
            {
                // A BatchNorm right after a convolution is part of it (and may be folded into its weights).
                var norm = i + 1 < children.Count ? children[i + 1].Module as BatchNorm2d : null;
                nodes.Add(Convolution(childPath, conv, norm, fold));
                if (norm is not null) i++;
            }
            else
            {
                nodes.Add(Node(childPath, child, fold));
            }
        }
        return new ChainNode(path, nodes);
    }

    private static GraphNode Node(string path, nn.Module module, bool fold) => module switch
    {
        Sequential s => Chain(path, ChildrenInForwardOrder(path, s), fold),
        _ when IsResNet(module) => Chain(path, ChildrenInForwardOrder(path, module), fold),
        _ when IsResidualBlock(module) => Residual(path, module, fold),
        Conv2d c => Convolution(path, c, null, fold),
        BatchNorm2d bn => new BatchNormNode(path, bn),
        ReLU => new ReluNode(path),
        MaxPool2d p => new MaxPoolNode(path, p),
        AdaptiveAvgPool2d a when a.output_size.All(s => s == 1) => new GlobalAveragePoolNode(path),
        Flatten f => new FlattenNode(path, f.start_dim, f.end_dim),
        Linear l => new LinearNode(path, l),
        Dropout or Identity => new PassThroughNode(path),
        _ => throw Unsupported(path, module),
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
            new ReluNode(Join(path, "relu")),
            Convolution(Join(path, "conv2"), Conv("conv2"), Norm("bn2"), fold),
        };
        if (children.ContainsKey("conv3"))
        {
            main.Add(new ReluNode(Join(path, "relu")));
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

    private static bool IsResNet(nn.Module module) =>
        module is Models.ResNet or TorchSharp.Modules.ResNet;

    private static bool IsResidualBlock(nn.Module module)
    {
        if (module is ResidualBlock) return true;
        var name = module.GetType().FullName;
        return name is "TorchSharp.Modules.ResNet+BasicBlock" or "TorchSharp.Modules.ResNet+Bottleneck";
    }

    private static NotSupportedException Unsupported(string path, nn.Module module) =>
        new($"Layer masking does not support module '{(path.Length == 0 ? "<root>" : path)}' of type {module.GetType().Name}. " +
            $"Supported: {SupportedModules}.");

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";
}
