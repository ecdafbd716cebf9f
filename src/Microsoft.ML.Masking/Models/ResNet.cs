using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Models;

/// <summary>
/// A torchvision-compatible ResNet built from a <see cref="ResNetArchitecture"/>: stem (conv1, bn1, relu,
/// maxpool), stages layer1…layerN of <see cref="ResidualBlock"/>s, global average pool, flatten and fc.
/// Parameter names equal torchvision's, so a PyTorch ResNet state dict loads into it directly.
/// </summary>
public sealed class ResNet : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly ReLU relu;
    private readonly nn.Module<Tensor, Tensor> maxpool;
    private readonly AdaptiveAvgPool2d avgpool;
    private readonly Flatten flatten;
    private readonly Linear fc;
    private readonly Sequential[] stages;

    /// <summary>Builds the network with freshly initialised weights on the CPU.</summary>
    /// <param name="architecture">Depth, width and stem.</param>
    /// <param name="seed">Seed of the initialisation (a private generator; the global one is untouched).</param>
    public ResNet(ResNetArchitecture architecture, long seed = 0) : base("ResNet")
    {
        ArgumentNullException.ThrowIfNull(architecture);
        architecture.Validate();
        Architecture = architecture;
        var a = architecture;
        conv1 = a.SmallImageStem
            ? nn.Conv2d(a.InputChannels, a.BaseWidth, 3, stride: 1, padding: 1, bias: false)
            : nn.Conv2d(a.InputChannels, a.BaseWidth, 7, stride: 2, padding: 3, bias: false);
        bn1 = nn.BatchNorm2d(a.BaseWidth);
        relu = nn.ReLU();
        maxpool = a.SmallImageStem ? nn.Identity() : nn.MaxPool2d(3, stride: 2, padding: 1);
        int expansion = ResidualBlock.Expansion(a.Block);
        int inChannels = a.BaseWidth;
        stages = new Sequential[a.Layers.Length];
        for (int s = 0; s < a.Layers.Length; s++)
        {
            int planes = a.BaseWidth << s;
            var blocks = new List<(string, nn.Module<Tensor, Tensor>)>();
            for (int b = 0; b < a.Layers[s]; b++)
            {
                blocks.Add((b.ToString(), new ResidualBlock(a.Block, inChannels, planes, b == 0 && s > 0 ? 2 : 1, a.Groups, a.WidthPerGroup)));
                inChannels = planes * expansion;
            }
            stages[s] = nn.Sequential(blocks);
        }
        avgpool = nn.AdaptiveAvgPool2d(1);
        flatten = nn.Flatten();
        fc = nn.Linear(inChannels, a.NumClasses);
        RegisterStemAndStages();
        Initialise(seed);
    }

    /// <summary>The architecture this network was built from.</summary>
    public ResNetArchitecture Architecture { get; }

    /// <summary>
    /// The final linear layer (torchvision's <c>fc</c>): <c>forward(x)</c> is <c>Head.forward(Features(x))</c>, so a
    /// caller can change the pooled features (e.g. gate channels) before the head, or read the class weights.
    /// </summary>
    public Linear Head => fc;

    private void RegisterStemAndStages()
    {
        // Registration order is forward order; torchvision names.
        register_module("conv1", conv1);
        register_module("bn1", bn1);
        register_module("relu", relu);
        register_module("maxpool", maxpool);
        for (int s = 0; s < stages.Length; s++)
            register_module($"layer{s + 1}", stages[s]);
        register_module("avgpool", avgpool);
        register_module("flatten", flatten);
        register_module("fc", fc);
    }

    private void Initialise(long seed)
    {
        using var _ = no_grad();
        var generator = new Generator((ulong)seed);
        foreach (var (_, module) in named_modules())
        {
            switch (module)
            {
                case Conv2d c:
                    // Kaiming normal, fan-out mode, ReLU gain (torchvision's choice), drawn from the private generator.
                    long fanOut = c.weight.shape[0] * c.weight.shape[2] * c.weight.shape[3];
                    c.weight.normal_(0, Math.Sqrt(2.0 / fanOut), generator);
                    break;
                case BatchNorm2d bn:
                    nn.init.ones_(bn.weight);
                    nn.init.zeros_(bn.bias);
                    break;
                case Linear l:
                    double bound = 1.0 / Math.Sqrt(l.in_features);
                    // Tensor.uniform_, not nn.init.uniform_: TorchSharp 0.107's nn.init.uniform_ ignores the generator.
                    l.weight.uniform_(-bound, bound, generator);
                    l.bias!.uniform_(-bound, bound, generator);
                    break;
            }
        }
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = Features(x);
        return fc.forward(y).MoveToOuterDisposeScope();
    }

    /// <summary>The penultimate feature vector (after global average pooling), shape [batch, FeatureChannels]: <c>Pool(FeatureMap(x))</c>.</summary>
    public Tensor Features(Tensor x)
    {
        var map = FeatureMap(x);
        using (NewDisposeScope())
        {
            var features = Pool(map).MoveToOuterDisposeScope();
            map.Dispose();
            return features;
        }
    }

    /// <summary>
    /// The last feature map (the last stage's output, before global average pooling), shape
    /// [batch, FeatureChannels, h, w]; <c>forward(x)</c> is <c>Head.forward(Pool(FeatureMap(x)))</c>, so a caller can
    /// change the map (e.g. gate positions) before pooling.
    /// </summary>
    public Tensor FeatureMap(Tensor x)
    {
        // Each step frees its input as soon as its output exists, so a forward pass holds two activations, not all.
        Tensor y;
        using (NewDisposeScope())
            y = maxpool.forward(relu.forward(bn1.forward(conv1.forward(x)))).MoveToOuterDisposeScope();
        foreach (var stage in stages)
        {
            foreach (var block in stage.children().Cast<ResidualBlock>())
            {
                var next = block.forward(y);
                y.Dispose();
                y = next;
            }
        }
        return y;
    }

    /// <summary>Global average pooling of a feature map [batch, C, h, w] to [batch, C] (the network's own pool).</summary>
    public Tensor Pool(Tensor featureMap)
    {
        using var scope = NewDisposeScope();
        return flatten.forward(avgpool.forward(featureMap)).MoveToOuterDisposeScope();
    }
}
