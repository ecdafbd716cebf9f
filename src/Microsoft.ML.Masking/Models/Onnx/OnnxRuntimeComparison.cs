using Microsoft.ML.Masking.Data;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Models.Onnx;

/// <summary>Runs an ONNX file with ONNX Runtime and the imported network on the same probe input and compares them.</summary>
internal static class OnnxRuntimeComparison
{
    /// <summary>
    /// max |ours − ONNX Runtime's| over the outputs, divided by the largest output magnitude of either (the output's
    /// scale), for <paramref name="batch"/> standard-normal images drawn from <paramref name="seed"/>.
    /// </summary>
    public static double MaxRelativeDifference(byte[] model, string inputName, string outputName, nn.Module<Tensor, Tensor> network,
        ImageShape shape, int batch, ulong seed = 0)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var probe = randn([batch, shape.Channels, shape.Height, shape.Width], generator: new Generator(seed));
        var ours = network.forward(probe).contiguous().data<float>().ToArray();
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        var input = new DenseTensor(probe.data<float>().ToArray(), [batch, shape.Channels, shape.Height, shape.Width]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, input)], [outputName]);
        var theirs = results.First().AsEnumerable<float>().ToArray();
        if (theirs.Length != ours.Length)
            throw new NotSupportedException($"ONNX Runtime gives {theirs.Length} outputs for {batch} probe image(s) where the imported network gives {ours.Length}.");
        double scale = 0, difference = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            scale = Math.Max(scale, Math.Max(Math.Abs(ours[i]), Math.Abs(theirs[i])));
            difference = Math.Max(difference, double.IsNaN(ours[i]) != double.IsNaN(theirs[i]) ? double.PositiveInfinity : Math.Abs((double)ours[i] - theirs[i]));
        }
        return scale == 0 ? difference : difference / scale;
    }
}
