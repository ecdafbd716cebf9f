using static TorchSharp.torch;

namespace Microsoft.ML.Masking.LayerMasking.Engine;

/// <summary>
/// A batch of keep-masks with everything layer masking derives from masks alone — the pooled masks of every window
/// layer, the residual ANDs, the neighbour-padding coefficients and the all-kept checks — kept across forward passes.
/// Scoring many image batches under the same masks (LIME's one sample matrix shared by rows, the same occlusion windows
/// for every image) then derives them once instead of once per pass.
/// </summary>
/// <remarks>
/// <para>Made by <see cref="LayerMaskedNetwork.Prepare"/>; the first pass ties it to its network and any other network
/// is refused. Use it only with image batches of the same size, inside <c>no_grad</c> (the inference path). The derived tensors are made lazily by
/// the first pass and owned here: dispose it when done.</para>
/// <para>Not thread-safe: one pass at a time.</para>
/// </remarks>
internal sealed class PreparedKeepMask : IDisposable
{
    private readonly Tensor _mask;

    /// <summary>Takes ownership of <paramref name="mask"/> ([batch, 1, H, W], 0/1, the images' type and device).</summary>
    internal PreparedKeepMask(Tensor mask)
    {
        _mask = mask.DetachFromDisposeScope();
        Algebra = new MaskAlgebra(inPlace: true);
        Root = Algebra.Root(_mask);
    }

    /// <summary>The masks' memoised computations, shared by every pass.</summary>
    internal MaskAlgebra Algebra { get; }

    /// <summary>The input mask's handle: the same identity in every pass, so every memo hits.</summary>
    internal MaskHandle Root { get; }

    /// <summary>The floating type of the images it serves.</summary>
    public ScalarType DType => _mask.dtype;

    /// <summary>Number of masks (the batch size of the images it serves).</summary>
    public long Count => _mask.shape[0];

    /// <summary>Bytes held: the mask and everything derived from it so far.</summary>
    public long Bytes => _mask.NumberOfElements * _mask.ElementSize + Algebra.OwnedBytes;

    /// <summary>True when <paramref name="keep"/> ([batch, H, W] or [batch, 1, H, W]) holds exactly these masks.</summary>
    public bool Matches(Tensor keep)
    {
        ArgumentNullException.ThrowIfNull(keep);
        var shape = _mask.shape;
        if (keep.NumberOfElements != _mask.NumberOfElements || keep.dim() < 3 || keep.shape[0] != shape[0]
            || keep.shape[^2] != shape[2] || keep.shape[^1] != shape[3])
            return false;
        using var scope = NewDisposeScope();
        using var same = _mask.eq(keep.reshape(shape).to(_mask.dtype, _mask.device)).all();
        return same.item<bool>();
    }

    private object? _network;

    /// <summary>
    /// Ties these masks to the network of their first pass and refuses any other: the memoised pooled masks and padding
    /// coefficients follow that network's layers, so another network would silently read the wrong ones.
    /// </summary>
    /// <exception cref="InvalidOperationException">The masks already served another network.</exception>
    internal void BindTo(object network)
    {
        ArgumentNullException.ThrowIfNull(network);
        _network ??= network;
        if (!ReferenceEquals(_network, network))
            throw new InvalidOperationException("These prepared keep-masks were made for another network; prepare them again for this one.");
    }

    /// <summary>Frees the mask and every derived tensor.</summary>
    public void Dispose()
    {
        Algebra.Dispose();
        _mask.Dispose();
    }
}
