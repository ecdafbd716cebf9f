using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.LayerMasking.Engine;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Evaluation.Engine;

/// <summary>
/// One <see cref="MaskedClassifier"/> per method over the same network, made once per evaluation (only the
/// layer-masking one folds BatchNorm, on its first pass). The masking evaluators score through it directly; the
/// attribution methods and metrics through <see cref="Attribution.Engine.MaskedNetworkScorer"/>, a one-method view.
/// </summary>
internal sealed class MaskedClassifierScorer : IMaskedScorer, IDisposable
{
    private readonly Dictionary<MaskingMethod, MaskedClassifier> _classifiers;
    private readonly ChannelNormalization _normalization;

    public MaskedClassifierScorer(nn.Module network, IReadOnlyList<MaskingMethod> methods, ChannelNormalization normalization, double blurSigma, Device device)
    {
        Methods = methods.ToArray();
        Device = device;
        _normalization = normalization;
        _classifiers = Methods.ToDictionary(m => m, m => new MaskedClassifier(network, m, normalization, blurSigma, device));
    }

    public IReadOnlyList<MaskingMethod> Methods { get; }

    public Device Device { get; }

    public Tensor CleanLogits(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        // Any classifier's graph gives the plain pass; they all wrap the same network.
        return _classifiers[Methods[0]].Network.ForwardPlain(_normalization.Apply(pixels.to(Device))).Logits.MoveToOuterDisposeScope();
    }

    /// <summary>The classifier of <paramref name="method"/> (shared: the caller does not dispose it).</summary>
    public MaskedClassifier Classifier(MaskingMethod method) => _classifiers[method];

    public Tensor MaskedLogits(MaskingMethod method, Tensor pixels, Tensor keep, Tensor? noise) =>
        _classifiers[method].Forward(pixels, keep, generator: null, noise).Logits;

    public void Dispose()
    {
        foreach (var classifier in _classifiers.Values)
            classifier.Dispose();
    }
}
