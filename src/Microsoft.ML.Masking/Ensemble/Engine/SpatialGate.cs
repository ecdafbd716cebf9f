using Microsoft.ML.Masking.Core;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Ensemble.Engine;

/// <summary>
/// The learned spatial gate of one ensemble member i &gt; 0 (<see cref="EnsembleGating.LearnedSpatial"/>): a 3×3
/// convolution from the earlier members' evidence concentrations ([N, i, h, w], <see cref="SpatialGateRule.Concentration"/>,
/// resized to member i's last feature map) to one gate in (0, 1) per position ([N, h, w]), so it can learn which of the
/// places the earlier members looked at (and their neighbourhoods) to close. Initialised open: weights 0 and bias
/// <c>initialBias</c>, so every gate starts at sigmoid(initialBias) for every input, as <see cref="ChannelGate"/> does.
/// </summary>
internal sealed class SpatialGate : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d convolution;

    /// <summary>Builds the gate over <paramref name="earlierMembers"/> concentration maps.</summary>
    public SpatialGate(int earlierMembers, double initialBias) : base("SpatialGate")
    {
        convolution = nn.Conv2d(earlierMembers, 1, 3, padding: 1);
        RegisterComponents();
        using var noGrad = no_grad();
        convolution.weight.zero_();
        convolution.bias!.FillInPlace(initialBias);
    }

    /// <summary>Gate values in (0, 1), [N, h, w], for concentrations [N, earlier members, h, w].</summary>
    public override Tensor forward(Tensor concentrations)
    {
        using var scope = NewDisposeScope();
        return convolution.forward(concentrations).squeeze(1).sigmoid().MoveToOuterDisposeScope();
    }
}
