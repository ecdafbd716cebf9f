using Microsoft.ML.Masking.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core.Training;

/// <summary>
/// An optimiser the <see cref="TrainingLoop"/>'s users create for their modules: SGD with (Nesterov) momentum or
/// AdamW, with weight decay on weights of two or more dimensions only (convolution and linear weights; never biases
/// or normalisation parameters, whose decay hurts: Goyal et al. 2017).
/// </summary>
/// <param name="Kind">SGD with momentum or AdamW.</param>
/// <param name="LearningRate">The initial rate (the loop sets the scheduled rate before every step).</param>
/// <param name="Momentum">SGD momentum.</param>
/// <param name="Nesterov">Whether SGD uses Nesterov momentum.</param>
/// <param name="WeightDecay">L2 decay for SGD, decoupled decay for AdamW, of weights with two or more dimensions.</param>
internal sealed record OptimizerSettings(OptimizerKind Kind, double LearningRate, double Momentum = 0.9, bool Nesterov = true, double WeightDecay = 0)
{
    /// <summary>Creates the optimiser over <paramref name="parameters"/>.</summary>
    public OptimizerHelper Create(IEnumerable<Parameter> parameters)
    {
        var all = parameters.ToList();
        var decayed = all.Where(p => p.dim() > 1).ToList();
        var undecayed = all.Where(p => p.dim() <= 1).ToList();
        return Kind switch
        {
            OptimizerKind.SgdMomentum => optim.SGD(
            [
                new SGD.ParamGroup(decayed, LearningRate, Momentum, 0, WeightDecay, Nesterov),
                new SGD.ParamGroup(undecayed, LearningRate, Momentum, 0, 0, Nesterov),
            ], LearningRate, Momentum, nesterov: Nesterov),
            OptimizerKind.AdamW => optim.AdamW(
            [
                new AdamW.ParamGroup(decayed, LearningRate, weight_decay: WeightDecay),
                new AdamW.ParamGroup(undecayed, LearningRate, weight_decay: 0),
            ], LearningRate),
            _ => throw new InvalidOperationException($"Unknown optimizer {Kind}."),
        };
    }

    /// <summary>The settings as fingerprint text (culture-invariant).</summary>
    public string Describe() => FormattableString.Invariant(
        $"{Kind} lr {LearningRate:R} momentum {Momentum:R} nesterov {Nesterov} decay {WeightDecay:R}");
}
