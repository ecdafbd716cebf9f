using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Ensemble.Engine;

/// <summary>
/// The ensemble's prediction and open-set scores for a batch, from the members' logits and gates. With weights w
/// (summing to 1), member probabilities p_k = softmax(z_k) and p̄ = Σ w_k p_k:
/// <list type="bullet">
/// <item>Probabilities: p̄ [N, K].</item>
/// <item>MaximumSoftmaxProbability: max p̄ — higher = more likely a known class.</item>
/// <item>Energy: −logsumexp(Σ w_k z_k) — higher = more likely unknown.</item>
/// <item>MutualInformation: H(p̄) − Σ w_k H(p_k) ≥ 0, the members' disagreement — higher = more likely unknown.</item>
/// <item>MemberAveragedEnergy: Σ w_k (−logsumexp z_k) — higher = more likely unknown; never above Energy (logsumexp is convex).</item>
/// <item>GateClosure: the mean of 1 − gate over the gated members' channels, in [0, 1) (0 for one member or without
/// gating) — higher = the earlier members closed more of the later members' features.</item>
/// <item>Gates: every member's gate [N, members × gate values] (channels, or h × w positions for spatial gates; member 0's is all ones).</item>
/// </list>
/// </summary>
internal sealed record OpenSetScores(Tensor Probabilities, Tensor MaximumSoftmaxProbability, Tensor Energy, Tensor MutualInformation,
    Tensor MemberAveragedEnergy, Tensor GateClosure, Tensor Gates)
{
    /// <summary>Computes the scores (in the caller's dispose scope).</summary>
    public static OpenSetScores Compute(IReadOnlyList<MemberForward> members, IReadOnlyList<float> weights)
    {
        if (members.Count != weights.Count)
            throw new ArgumentException($"{members.Count} members but {weights.Count} weights.", nameof(weights));
        var device = members[0].Logits.device;
        var w = tensor(weights.ToArray(), device: device).view(-1, 1, 1);                       // [M, 1, 1]
        var logits = stack(members.Select(m => m.Logits), 0);                                     // [M, N, K]
        var logProbabilities = nn.functional.log_softmax(logits, 2);
        var probabilities = logProbabilities.exp();
        var mean = w.mul(probabilities).sum(0L);                                                     // [N, K]
        var memberEntropy = probabilities.mul(logProbabilities).sum(2).neg();                            // [M, N]
        var meanEntropy = mean.mul(mean.ClampMin(1e-30).log()).sum(1).neg();                           // [N]
        var mutualInformation = meanEntropy.sub(w.view(-1, 1).mul(memberEntropy).sum(0L)).ClampMin(0);
        var energy = w.mul(logits).sum(0L).logsumexp(1).neg();
        var memberEnergy = w.view(-1, 1).mul(logits.logsumexp(2)).sum(0L).neg();
        var gates = cat(members.Select(m => m.Gate).ToArray(), 1);
        var closure = members.Count == 1
            ? zeros(mean.shape[0], device: device)
            : cat(members.Skip(1).Select(m => m.Gate).ToArray(), 1).OneMinus().mean([1]);
        return new OpenSetScores(mean, mean.max(1).values, energy, mutualInformation, memberEnergy, closure, gates);
    }
}
