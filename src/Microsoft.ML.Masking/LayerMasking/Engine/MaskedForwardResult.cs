using static TorchSharp.torch;

namespace Microsoft.ML.Masking.LayerMasking.Engine;

/// <summary>Output of a masked forward pass.</summary>
/// <param name="Logits">[batch, classes]: the network's output.</param>
/// <param name="Features">[batch, features]: what enters the final Linear layer, or null if the network has none.</param>
public readonly record struct MaskedForwardResult(Tensor Logits, Tensor? Features)
{
    /// <summary>Hands both tensors to the enclosing dispose scope.</summary>
    internal MaskedForwardResult MoveToOuterDisposeScope() => new(Logits.MoveToOuterDisposeScope(), Features?.MoveToOuterDisposeScope());
}
