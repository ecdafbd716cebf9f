namespace Microsoft.ML.Masking.Ensemble;

/// <summary>
/// The running record of feature importance a <see cref="DynamicMaskEnsembleTrainer"/> keeps across members and saves
/// with the model: for each member, the mean over the training data of each channel's exact contribution to the true
/// class's logit at the last feature map (pooled activation × class weight of the GAP + linear head, with the member's
/// gate applied), or its layer Integrated Gradients / GradientSHAP attribution there, as <see cref="Method"/> says.
/// Distillation targets each earlier member's highest channels.
/// </summary>
public sealed class ChannelImportanceRecord
{
    private readonly float[][] _members;

    internal ChannelImportanceRecord(IEnumerable<float[]> members, ChannelImportanceMethod method)
    {
        _members = members.Select(m => m.ToArray()).ToArray();
        Method = method;
    }

    /// <summary>How the importances were measured (<see cref="DynamicMaskEnsembleTrainer.Options.ImportanceMethod"/>).</summary>
    public ChannelImportanceMethod Method { get; }

    /// <summary>Members recorded.</summary>
    public int MemberCount => _members.Length;

    /// <summary>Member <paramref name="member"/>'s mean importance per channel (logit units).</summary>
    public IReadOnlyList<float> this[int member] => _members[member];

    /// <summary>The channels of member <paramref name="member"/> in decreasing importance.</summary>
    public IReadOnlyList<int> Ranking(int member) =>
        Enumerable.Range(0, _members[member].Length).OrderByDescending(c => _members[member][c]).ThenBy(c => c).ToArray();

    internal float[][] ToArrays() => _members.Select(m => m.ToArray()).ToArray();
}
