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
public sealed class MaskedNetworkScorer : IPerturbationScorer, IDisposable
{
    private readonly MaskedClassifierScorer _classifiers;
    private readonly bool _ownsClassifiers;

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
        var logits = _classifiers.Classifier(Method).Forward(pixels, keep, null, draw).Logits;
        return Output == ScoreKind.Logit ? logits : logits.softmax(1);
    }

    /// <summary>Releases the derived tensors when this scorer made its classifier (the network itself is not disposed).</summary>
    public void Dispose()
    {
        if (_ownsClassifiers)
            _classifiers.Dispose();
    }
}
