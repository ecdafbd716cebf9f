using Microsoft.ML.Masking.Core;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Ensemble.Engine;

/// <summary>
/// The learned gate of one ensemble member i &gt; 0: a two-layer perceptron from the earlier members' per-input
/// channel importances ([N, Σ channels of members 0…i−1]) to a gate in (0, 1) per channel of member i's last
/// feature map ([N, channels]). The input is divided by its mean absolute value per row, so the gate sees the
/// pattern of importances, not their scale. Initialised open: the output layer's weights are 0 and its bias
/// <c>initialBias</c>, so every gate starts at sigmoid(initialBias) for every input.
/// </summary>
internal sealed class ChannelGate : nn.Module<Tensor, Tensor>
{
    private readonly Linear hidden;
    private readonly Linear output;

    /// <summary>Builds the gate; the hidden layer's weights are drawn from a private generator seeded by <paramref name="seed"/>.</summary>
    public ChannelGate(int inputs, int hiddenUnits, int channels, double initialBias, long seed) : base("ChannelGate")
    {
        hidden = nn.Linear(inputs, hiddenUnits);
        output = nn.Linear(hiddenUnits, channels);
        RegisterComponents();
        using var noGrad = no_grad();
        using var generator = new Generator(unchecked((ulong)seed));
        double bound = 1.0 / Math.Sqrt(inputs);
        hidden.weight.uniform_(-bound, bound, generator);
        hidden.bias!.uniform_(-bound, bound, generator);
        output.weight.zero_();
        output.bias!.FillInPlace(initialBias);
    }

    /// <summary>Gate values in (0, 1), [N, channels], for importances [N, inputs].</summary>
    public override Tensor forward(Tensor importances)
    {
        using var scope = NewDisposeScope();
        var scale = importances.abs().mean([1], keepdim: true).ClampMin(1e-6);
        return output.forward(nn.functional.relu(hidden.forward(importances.div(scale)))).sigmoid().MoveToOuterDisposeScope();
    }
}
