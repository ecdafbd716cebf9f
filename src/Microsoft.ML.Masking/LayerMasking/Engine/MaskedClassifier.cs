using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.LayerMasking.Engine;

/// <summary>
/// One network behind every masking method: layer masking runs the network with the mask propagated; every
/// baseline rewrites the removed pixels and runs it plainly. Inputs are pixel-space images; the classifier
/// applies the per-channel normalisation itself, so "black" and "grey" mean what they say.
/// </summary>
internal sealed class MaskedClassifier : IDisposable
{
    private readonly LayerMaskedNetwork _network;
    private readonly Tensor _black;

    /// <summary>Wraps <paramref name="network"/> (used in place).</summary>
    /// <param name="network">A CNN layer masking supports (see <see cref="LayerMaskedNetwork.Create"/>).</param>
    /// <param name="method">The masking method.</param>
    /// <param name="normalization">Per-channel normalization the network expects; pixel values are normalized with it.</param>
    /// <param name="blurSigma">σ in pixels for <see cref="MaskingMethod.Blur"/>.</param>
    /// <param name="device">Device of the network and of every tensor this class makes.</param>
    public MaskedClassifier(nn.Module network, MaskingMethod method, ChannelNormalization normalization, double blurSigma = 4.0, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(normalization);
        if (!(blurSigma > 0)) throw new ArgumentOutOfRangeException(nameof(blurSigma), blurSigma, "Blur σ must be positive.");
        Method = method;
        Normalization = normalization;
        BlurSigma = blurSigma;
        Device = device ?? CPU;
        _network = LayerMaskedNetwork.Create(network);
        _black = normalization.Black(Device).DetachFromDisposeScope();
    }

    /// <summary>The masking method.</summary>
    public MaskingMethod Method { get; }

    /// <summary>The normalization applied to pixel values.</summary>
    public ChannelNormalization Normalization { get; }

    /// <summary>σ of the blur baseline, in pixels.</summary>
    public double BlurSigma { get; }

    /// <summary>Where the computation runs.</summary>
    public Device Device { get; }

    /// <summary>The layer-masking view of the network (also gives the plain forward pass).</summary>
    public LayerMaskedNetwork Network => _network;

    /// <summary>Scores a batch with the removed pixels taken out by <see cref="Method"/>.</summary>
    /// <param name="pixels">[batch, channels, height, width] in pixel space (before normalisation).</param>
    /// <param name="keep">[batch, height, width] or [batch, 1, height, width]; 1 = kept, 0 = removed.</param>
    /// <param name="generator">Random source of the noise baseline; a fixed-seed one is used when null.</param>
    /// <remarks>Gradients are the caller's choice: inside <c>no_grad</c> this is the fast inference path; with gradients
    /// enabled the logits carry them back to <paramref name="pixels"/> (see <see cref="LayerMaskedNetwork"/>).</remarks>
    public MaskedForwardResult Forward(Tensor pixels, Tensor keep, Generator? generator = null) => Forward(pixels, keep, generator, null);

    /// <summary>
    /// <see cref="Forward(Tensor, Tensor, Generator)"/> with the noise baseline's standard normal values given
    /// (<paramref name="noise"/>, the images' shape; e.g. drawn per row so they do not depend on the batch), or drawn
    /// from <paramref name="generator"/> when null.
    /// </summary>
    public MaskedForwardResult Forward(Tensor pixels, Tensor keep, Generator? generator, Tensor? noise)
    {
        using var scope = NewDisposeScope();
        return Run(pixels, KeepMask.Normalize(pixels, keep), generator, noise).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="Forward(Tensor, Tensor, Generator)"/> for a caller that has already checked that <paramref name="keep"/> holds only 0 and 1 (the
    /// transformer does, with a message naming its column): the values are not checked again, so the batch waits for
    /// the device once, not once per layer of the API.
    /// </summary>
    /// <param name="pixels">As for <see cref="Forward(Tensor, Tensor, Generator)"/>.</param>
    /// <param name="keep">As for <see cref="Forward(Tensor, Tensor, Generator)"/>, values already checked.</param>
    /// <param name="generator">As for <see cref="Forward(Tensor, Tensor, Generator)"/>, when <paramref name="noise"/> is not given.</param>
    /// <param name="noise">The noise baseline's noise in normalised space, shaped as the images (see <see cref="Core.Randomness.RowNoise"/>).</param>
    internal MaskedForwardResult ForwardChecked(Tensor pixels, Tensor keep, Generator? generator = null, Tensor? noise = null)
    {
        using var scope = NewDisposeScope();
        return Run(pixels, KeepMask.Reshape(pixels, keep), generator, noise).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Layer-masked scores of <paramref name="pixels"/> under masks prepared once for several batches
    /// (<see cref="LayerMaskedNetwork.Prepare"/>); the same values as <see cref="Forward(Tensor, Tensor, Generator)"/>
    /// with the masks themselves. Layer masking only, inside <c>no_grad</c>.
    /// </summary>
    internal MaskedForwardResult ForwardPrepared(Tensor pixels, PreparedKeepMask prepared)
    {
        if (Method != MaskingMethod.LayerMasking)
            throw new InvalidOperationException($"Prepared keep-masks are layer masking's; this classifier removes pixels by {Method}.");
        using var scope = NewDisposeScope();
        Normalization.EnsureChannels((int)pixels.shape[1]);
        return _network.ForwardPrepared(Normalization.Apply(pixels.to(Device)), prepared).MoveToOuterDisposeScope();
    }

    private MaskedForwardResult Run(Tensor pixels, Tensor mask, Generator? generator, Tensor? noise)
    {
        Normalization.EnsureChannels((int)pixels.shape[1]);
        var images = Normalization.Apply(pixels.to(Device));
        mask = mask.to(images.dtype, Device);
        if (Method == MaskingMethod.LayerMasking)
            return _network.ForwardChecked(images, mask);
        using var fallback = generator is null && noise is null ? new Generator(0, Device) : null;
        return _network.ForwardPlain(InputMasking.Apply(Method, images, mask, _black, BlurSigma, generator ?? fallback, noise));
    }

    /// <summary>Releases the derived tensors (the network itself is not disposed).</summary>
    public void Dispose()
    {
        _network.Dispose();
        _black.Dispose();
    }
}
