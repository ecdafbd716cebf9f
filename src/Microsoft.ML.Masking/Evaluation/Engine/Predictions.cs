using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Evaluation.Engine;

/// <summary>Top-1 classes out of logits, on the CPU.</summary>
internal static class Predictions
{
    /// <summary>The argmax of each row of <paramref name="logits"/> [batch, classes].</summary>
    public static int[] Top1(Tensor logits)
    {
        using var classes = logits.argmax(1).to(ScalarType.Int32, CPU);
        return classes.data<int>().ToArray();
    }
}
