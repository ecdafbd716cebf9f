using Microsoft.ML.Masking.Data;

namespace Microsoft.ML.Masking.Models.Onnx;

/// <summary>
/// An imported ONNX graph without its weights: the layers in topological order, the image they take and what comes
/// out. <see cref="OnnxNetwork"/> is built from it, and model.zip stores it (in the classifier header) to rebuild the
/// network before loading the weights.
/// </summary>
/// <param name="Source">The ONNX file's name (without folder), for messages.</param>
/// <param name="OpsetVersion">The default-domain opset the file was written with.</param>
/// <param name="Input">The image the network takes (C, H, W); the spatial sizes checked the paddings at import.</param>
/// <param name="Layers">The layers in topological order; the last one's output is the network's.</param>
/// <param name="OutputSize">Values per image of the output (classes, or features for a network without a classifier).</param>
internal sealed record OnnxLayerGraph(string Source, long OpsetVersion, ImageShape Input, OnnxLayer[] Layers, int OutputSize)
{
    /// <summary>True when the graph ends in a Linear layer (Gemm, MatMul + Add): its outputs are class scores.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool EndsInLinear => Layers.Length > 0 && Layers[^1].Kind == OnnxLayerKind.Linear;
}
