namespace Microsoft.ML.Masking.Training;

/// <summary>The optimiser of the ResNet trainer.</summary>
public enum OptimizerKind
{
    /// <summary>Stochastic gradient descent with (Nesterov) momentum; weight decay as an L2 term on the gradient.</summary>
    SgdMomentum,
    /// <summary>Adam with decoupled weight decay (Loshchilov and Hutter, 2019).</summary>
    AdamW,
}
