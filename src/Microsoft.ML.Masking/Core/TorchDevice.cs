using TorchSharp;

namespace Microsoft.ML.Masking.Core;

/// <summary>
/// Chooses the TorchSharp device for a component the way ML.NET's own TorchSharp components do:
/// <see cref="MLContext.GpuDeviceId"/> asks for a CUDA device, and <see cref="MLContext.FallbackToCpu"/>
/// decides whether a missing GPU is an error or a quiet fall back to the CPU.
/// </summary>
internal static class TorchDevice
{
    /// <summary>Resolves the device for <paramref name="context"/>.</summary>
    /// <exception cref="InvalidOperationException">A GPU was asked for, none is usable and fallback is off.</exception>
    public static torch.Device Resolve(MLContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Resolve(context.GpuDeviceId, context.FallbackToCpu);
    }

    /// <summary>Resolves the device from an explicit GPU id (null for CPU) and fallback policy.</summary>
    public static torch.Device Resolve(int? gpuDeviceId, bool fallbackToCpu)
    {
        if (gpuDeviceId is null)
            return torch.CPU;
        if (torch.cuda.is_available() && gpuDeviceId.Value < torch.cuda.device_count())
            return new torch.Device(DeviceType.CUDA, gpuDeviceId.Value);
        if (fallbackToCpu)
            return torch.CPU;
        throw new InvalidOperationException(
            $"GPU {gpuDeviceId} was requested (MLContext.GpuDeviceId) but CUDA is not available to TorchSharp. " +
            "Build with -p:TorchBackend=cuda on a machine with the TorchSharp-cuda-linux package and a GPU, " +
            "or set MLContext.FallbackToCpu = true.");
    }
}
