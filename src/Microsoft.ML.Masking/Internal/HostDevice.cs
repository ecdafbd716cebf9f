using Microsoft.ML.Masking.Core;
using Microsoft.ML.Runtime;
using TorchSharp;

namespace Microsoft.ML.Masking.Internal;

/// <summary>
/// The device an ML.NET component should use. <see cref="MLContext.GpuDeviceId"/> and
/// <see cref="MLContext.FallbackToCpu"/> reach components only through the internal
/// <c>IHostEnvironmentInternal</c>, which is why this lives here.
/// </summary>
internal static class HostDevice
{
    /// <summary>Resolves the device for <paramref name="env"/> (CPU when it carries no GPU request).</summary>
    public static torch.Device Resolve(IHostEnvironment env) =>
        env is IHostEnvironmentInternal settings
            ? TorchDevice.Resolve(settings.GpuDeviceId, settings.FallbackToCpu)
            : torch.CPU;
}
