using Microsoft.ML.Runtime;

namespace Microsoft.ML.Masking.Internal;

/// <summary>
/// ML.NET's cancellation of a host (<c>mlContext.CancelExecution()</c>) as its own components see it: the internal
/// <c>Contracts.CheckAlive</c>, which throws <see cref="OperationCanceledException"/> once the environment is cancelled.
/// </summary>
internal static class HostCancellation
{
    /// <summary>Throws <see cref="OperationCanceledException"/> when <paramref name="env"/> was cancelled.</summary>
    public static void ThrowIfCancelled(IHostEnvironment env) => env.CheckAlive();
}
