using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.Evaluation.Engine;
using Microsoft.ML.Masking.LayerMasking.Engine;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// Scores a TorchSharp CNN with pixels removed by any <see cref="MaskingMethod"/>: layer masking (the removed pixels
/// never reach the network) or a baseline fill. A one-method view of the evaluators' <see cref="MaskedClassifierScorer"/>,
/// so an evaluation that scores several removals and outputs builds each method's <see cref="MaskedClassifier"/> once.
/// </summary>
/// <remarks>Under layer masking (and inside <c>no_grad</c>) it keeps the mask-only work of its last pass
/// (<see cref="PreparedKeepMask"/>): the next pass with the very same keep-masks — the next row of a method whose masks
/// do not depend on the row, scored mask-major by <see cref="PerturbationScoring"/> — reuses it instead of deriving it
/// again. Only the last pass's masks are kept, so the memory is bounded by one pass's mask work.</remarks>
public sealed class MaskedNetworkScorer : IPerturbationScorer, IDisposable
{
    private readonly MaskedClassifierScorer _classifiers;
    private readonly bool _ownsClassifiers;
    private readonly object _gate = new();
    private PreparedKeepMask? _lastMasks;

    /// <summary>Creates the scorer.</summary>
    /// <param name="network">A CNN layer masking supports (checked here; the error names the module it cannot handle).</param>
    /// <param name="classCount">Classes of the network.</param>
    /// <param name="method">How removed pixels are taken out.</param>
    /// <param name="normalization">The network's normalisation.</param>
    /// <param name="output">Logits or probabilities.</param>
    /// <param name="blurSigma">σ of <see cref="MaskingMethod.Blur"/>, in pixels.</param>
    /// <param name="device">The network's device.</param>
    public MaskedNetworkScorer(nn.Module network, int classCount, MaskingMethod method, ChannelNormalization normalization,
        ScoreKind output = ScoreKind.Probability, double blurSigma = 4.0, Device? device = null)
        : this(new MaskedClassifierScorer(network, [method], normalization, blurSigma, device ?? CPU), method, classCount, output, owns: true)
    {
    }

    /// <summary>A view of <paramref name="classifiers"/>' classifier for <paramref name="method"/> (not disposed with this scorer unless <paramref name="owns"/>).</summary>
    internal MaskedNetworkScorer(MaskedClassifierScorer classifiers, MaskingMethod method, int classCount, ScoreKind output, bool owns = false)
    {
        if (classCount < 1) throw new ArgumentOutOfRangeException(nameof(classCount), classCount, "A classifier has at least one class.");
        _classifiers = classifiers;
        _ownsClassifiers = owns;
        Method = method;
        ClassCount = classCount;
        Output = output;
    }

    /// <summary>The masking method.</summary>
    public MaskingMethod Method { get; }

    /// <summary>Logits or probabilities.</summary>
    public ScoreKind Output { get; }

    /// <inheritdoc/>
    public int ClassCount { get; }

    /// <inheritdoc/>
    public Device Device => _classifiers.Device;

    /// <inheritdoc/>
    public Tensor Scores(Tensor pixels, Tensor keep, PerturbationNoise noise)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(noise);
        using var draw = Method == MaskingMethod.Noise ? noise.Normal(pixels.shape.AsSpan(1), Device) : null;
        var classifier = _classifiers.Classifier(Method);
        var logits = Method == MaskingMethod.LayerMasking && !is_grad_enabled()
            ? ReusingMasks(classifier, pixels, keep)
            : classifier.Forward(pixels, keep, null, draw).Logits;
        return Output == ScoreKind.Logit ? logits : logits.softmax(1);
    }

    /// <summary>The layer-masked logits, with the last pass's mask work reused when <paramref name="keep"/> is the same.</summary>
    private Tensor ReusingMasks(MaskedClassifier classifier, Tensor pixels, Tensor keep)
    {
        PreparedKeepMask? prepared;
        lock (_gate)
        {
            // Taken out while in use, so a concurrent caller never shares it.
            prepared = _lastMasks is { } last && last.DType == pixels.dtype && last.Matches(keep) ? last : null;
            if (prepared is not null) _lastMasks = null;
        }
        prepared ??= LayerMaskedNetwork.Prepare(keep, pixels.dtype, Device);
        Tensor logits;
        try
        {
            logits = classifier.ForwardPrepared(pixels, prepared).Logits;
        }
        catch
        {
            prepared.Dispose();
            throw;
        }
        PreparedKeepMask? replaced;
        lock (_gate)
        {
            replaced = _lastMasks;
            _lastMasks = prepared;
        }
        replaced?.Dispose();
        return logits;
    }

    /// <summary>Releases the derived tensors when this scorer made its classifier (the network itself is not disposed).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _lastMasks?.Dispose();
            _lastMasks = null;
        }
        if (_ownsClassifiers)
            _classifiers.Dispose();
    }
}
