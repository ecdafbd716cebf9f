namespace Microsoft.ML.Masking.Models.Onnx;

/// <summary>What one layer of an imported ONNX graph computes (<see cref="OnnxLayer"/>); saved by name in model.zip.</summary>
internal enum OnnxLayerKind
{
    /// <summary>Conv: any kernel, stride, symmetric padding, dilation and group.</summary>
    Convolution,

    /// <summary>BatchNormalization with its running statistics.</summary>
    BatchNorm,

    /// <summary>An element-wise activation (<see cref="OnnxLayer.Activation"/>).</summary>
    Activation,

    /// <summary>MaxPool.</summary>
    MaxPool,

    /// <summary>AveragePool over windows.</summary>
    AveragePool,

    /// <summary>GlobalAveragePool, ReduceMean over the spatial axes, or an AveragePool whose window is the whole map.</summary>
    GlobalAveragePool,

    /// <summary>Flatten, or a Reshape/Squeeze to one vector per image.</summary>
    Flatten,

    /// <summary>Gemm, or MatMul followed by the Add of a bias.</summary>
    Linear,

    /// <summary>The sum of two computed tensors (a residual connection).</summary>
    Add,

    /// <summary>Concatenation along the channels.</summary>
    Concat,

    /// <summary>A map times per-channel scales computed from it (squeeze-and-excitation).</summary>
    ChannelScale,
}
