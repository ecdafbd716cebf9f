namespace Microsoft.ML.Masking.Models;

/// <summary>The two residual block designs of torchvision-style ResNets.</summary>
public enum ResidualBlockKind
{
    /// <summary>Two 3×3 convolutions (ResNet-18/34); expansion 1.</summary>
    Basic,
    /// <summary>1×1 → 3×3 → 1×1 convolutions (ResNet-50/101, Wide ResNet, ResNeXt); expansion 4.</summary>
    Bottleneck,
}
