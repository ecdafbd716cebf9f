using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core.Training;

/// <summary>
/// An explicit, scoped change of TorchSharp's intra-op thread count. The count is process-wide in libtorch, so the
/// library changes it only when a caller asks (e.g. <c>ResNetTrainer.Options.NumberOfThreads</c>), and restores
/// the previous count when the scope ends; while it lasts, other TorchSharp work in the process runs with it too.
/// </summary>
internal sealed class TorchThreads : IDisposable
{
    private readonly int? _previous;

    private TorchThreads(int? threads)
    {
        if (threads is not { } count)
            return;
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1, nameof(threads));
        _previous = get_num_threads();
        if (count != _previous)
            set_num_threads(count);
    }

    /// <summary>Uses <paramref name="threads"/> threads until disposed; null leaves the setting alone.</summary>
    public static TorchThreads Use(int? threads) => new(threads);

    /// <summary>Restores the previous count (when one was changed).</summary>
    public void Dispose()
    {
        if (_previous is { } previous && get_num_threads() != previous)
            set_num_threads(previous);
    }
}
