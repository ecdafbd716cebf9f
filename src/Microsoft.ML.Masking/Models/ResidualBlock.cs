using Microsoft.ML.Masking.Core;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Models;

/// <summary>
/// A torchvision-style residual block: <see cref="ResidualBlockKind.Basic"/> (3×3, 3×3) or
/// <see cref="ResidualBlockKind.Bottleneck"/> (1×1, 3×3 carrying the stride, 1×1), each convolution followed
/// by BatchNorm, a ReLU after each inner BatchNorm and after the residual sum. Submodule names match
/// torchvision so PyTorch state dicts load unchanged.
/// </summary>
public sealed class ResidualBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Conv2d? conv3;
    private readonly BatchNorm2d? bn3;
    private readonly Sequential? downsample;
    private readonly ReLU relu;

    /// <summary>Creates a block.</summary>
    /// <param name="kind">Block design.</param>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="planes">Planes (output channels are planes × expansion).</param>
    /// <param name="stride">Stride of the block (on the 3×3 convolution and the downsample branch).</param>
    /// <param name="groups">Groups of the bottleneck 3×3 convolution.</param>
    /// <param name="widthPerGroup">Bottleneck width per group (64 = standard).</param>
    public ResidualBlock(ResidualBlockKind kind, int inChannels, int planes, int stride, int groups = 1, int widthPerGroup = 64)
        : base(kind == ResidualBlockKind.Basic ? "BasicBlock" : "Bottleneck")
    {
        Kind = kind;
        int outChannels = planes * Expansion(kind);
        if (kind == ResidualBlockKind.Basic)
        {
            conv1 = nn.Conv2d(inChannels, planes, 3, stride: stride, padding: 1, bias: false);
            bn1 = nn.BatchNorm2d(planes);
            conv2 = nn.Conv2d(planes, planes, 3, padding: 1, bias: false);
            bn2 = nn.BatchNorm2d(planes);
        }
        else
        {
            int width = planes * widthPerGroup / 64 * groups;
            conv1 = nn.Conv2d(inChannels, width, 1, bias: false);
            bn1 = nn.BatchNorm2d(width);
            conv2 = nn.Conv2d(width, width, 3, stride: stride, padding: 1, groups: groups, bias: false);
            bn2 = nn.BatchNorm2d(width);
            conv3 = nn.Conv2d(width, outChannels, 1, bias: false);
            bn3 = nn.BatchNorm2d(outChannels);
        }
        if (stride != 1 || inChannels != outChannels)
            downsample = nn.Sequential(
                ("0", nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false)),
                ("1", nn.BatchNorm2d(outChannels)));
        relu = nn.ReLU();
        RegisterComponents();
    }

    /// <summary>Channel multiplier from planes to block output.</summary>
    public static int Expansion(ResidualBlockKind kind) => kind == ResidualBlockKind.Basic ? 1 : 4;

    /// <summary>Block design.</summary>
    public ResidualBlockKind Kind { get; }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = relu.forward(bn1.forward(conv1.forward(x)));
        y = bn2.forward(conv2.forward(y));
        if (conv3 is not null)
            y = bn3!.forward(conv3.forward(relu.forward(y)));
        var identity = downsample is null ? x : downsample.forward(x);
        return relu.forward(y.PlusInPlace(identity)).MoveToOuterDisposeScope();
    }
}
