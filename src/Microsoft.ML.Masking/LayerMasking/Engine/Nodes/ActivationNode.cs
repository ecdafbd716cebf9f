using Microsoft.ML.Masking.Core;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Masking.LayerMasking.Engine.Nodes;

/// <summary>
/// An element-wise activation f (ReLU, ReLU6, Sigmoid, Hardsigmoid, Hardswish, SiLU, GELU, Tanh):
/// f(x⊙m)⊙m, the reference's rule. Being element-wise, f at a kept position reads only that position, so the fast path
/// applies f to the values as they are; an f with f(0) = 0 keeps a clean activation clean, the others (Sigmoid,
/// Hardsigmoid: f(0) = ½) leave it dirty for the next layer that reads neighbours to zero.
/// </summary>
/// <remarks>Functional ops, never the module's own forward: torchvision builds its activations with
/// <c>inplace: true</c>, and the fast path must not overwrite a tensor another branch still reads.</remarks>
internal sealed class ActivationNode : GraphNode
{
    private readonly Func<Tensor, Tensor> _apply;
    private readonly Func<Tensor, Tensor>? _applyInPlace;

    private ActivationNode(string path, string name, Func<Tensor, Tensor> apply, Func<Tensor, Tensor>? applyInPlace, bool keepsZero) : base(path)
    {
        Name = name;
        _apply = apply;
        _applyInPlace = applyInPlace;
        KeepsZero = keepsZero;
    }

    /// <summary>The activation's name, for messages.</summary>
    public string Name { get; }

    /// <summary>True when f(0) = 0, so zeros at removed positions stay zero.</summary>
    public bool KeepsZero { get; }

    /// <summary>ReLU (the activation of every ResNet block).</summary>
    public static ActivationNode Relu(string path) => new(path, "ReLU", x => x.relu(), x => x.relu_(), keepsZero: true);

    /// <summary>The node of an activation module, or null when <paramref name="module"/> is not an element-wise activation.</summary>
    public static ActivationNode? FromModule(string path, nn.Module module) => module switch
    {
        ReLU => Relu(path),
        ReLU6 => new(path, "ReLU6", x => F.relu6(x), x => F.relu6(x, inplace: true), keepsZero: true),
        Sigmoid => new(path, "Sigmoid", x => x.sigmoid(), x => x.sigmoid_(), keepsZero: false),
        Hardsigmoid => new(path, "Hardsigmoid", x => F.hardsigmoid(x), x => F.hardsigmoid(x, inplace: true), keepsZero: false),
        Hardswish => new(path, "Hardswish", x => F.hardswish(x), x => F.hardswish(x, inplace: true), keepsZero: true),
        SiLU => new(path, "SiLU", x => F.silu(x), x => F.silu(x, inplace: true), keepsZero: true),
        GELU g => Gelu(path, g.approximate),
        Tanh => new(path, "Tanh", x => x.tanh(), x => x.tanh_(), keepsZero: true),
        _ => null,
    };

    /// <summary>
    /// The activation an imported ONNX graph names (<see cref="Models.Onnx.OnnxLayer.Activation"/>): Relu, Sigmoid, Tanh,
    /// HardSwish, SiLU, HardSigmoid (clamp(α·x + β, 0, 1), ONNX's form: its default α = 0.2 is not PyTorch's 1/6),
    /// GatedHardSigmoid (x·HardSigmoid(x)) and Clip (clamp(x, α, β); [0, 6] is ReLU6).
    /// </summary>
    /// <exception cref="NotSupportedException">An unknown name.</exception>
    public static ActivationNode Named(string path, string name, double alpha, double beta) => name switch
    {
        "Relu" => Relu(path),
        "Sigmoid" => new(path, name, x => x.sigmoid(), x => x.sigmoid_(), keepsZero: false),
        "Tanh" => new(path, name, x => x.tanh(), x => x.tanh_(), keepsZero: true),
        "HardSwish" => new(path, name, x => F.hardswish(x), x => F.hardswish(x, inplace: true), keepsZero: true),
        "SiLU" => new(path, name, x => F.silu(x), x => F.silu(x, inplace: true), keepsZero: true),
        "HardSigmoid" => new(path, name, x => x.Times(alpha).PlusInPlace(beta).ClampToUnitInPlace(),
            x => x.TimesInPlace(alpha).PlusInPlace(beta).ClampToUnitInPlace(), keepsZero: Math.Clamp(beta, 0, 1) == 0),
        "GatedHardSigmoid" => new(path, name, x => x.mul(x.Times(alpha).PlusInPlace(beta).ClampToUnitInPlace()), null, keepsZero: true),
        "Clip" when alpha == 0 && beta == 6 => new(path, "ReLU6", x => F.relu6(x), x => F.relu6(x, inplace: true), keepsZero: true),
        "Clip" => new(path, name, x => x.Clamp(alpha, beta), null, keepsZero: alpha <= 0 && beta >= 0),
        _ => throw new NotSupportedException($"Layer masking has no activation '{name}' (node '{path}')."),
    };

    private static ActivationNode Gelu(string path, GELU.Approximate approximate) =>
        new(path, "GELU", x => F.gelu(x, approximate), null, keepsZero: true);

    public override Tensor Plain(Tensor x) => _apply(x);

    public override MaskedActivation Reference(MaskedActivation input, MaskAlgebra masks)
    {
        if (input.Mask is null) return new MaskedActivation(Plain(input.Values), null, clean: true);
        var m = input.Mask.Tensor;
        return new MaskedActivation(Plain(input.Values * m) * m, input.Mask, clean: true);
    }

    public override MaskedActivation Fast(MaskedActivation input, MaskAlgebra masks, bool inputShared)
    {
        var y = inputShared || !masks.InPlace || _applyInPlace is null ? _apply(input.Values) : _applyInPlace(input.Values);
        return new MaskedActivation(y, input.Mask, input.Mask is null || input.Clean && KeepsZero);
    }
}
