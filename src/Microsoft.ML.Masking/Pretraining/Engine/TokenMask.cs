using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Pretraining.Engine;

/// <summary>
/// Which patches of each image a masked-autoencoder step hides, in the MAE reference's representation: sort each
/// image's per-patch noise ascending, keep the first <see cref="KeepCount"/> patches, remove the rest.
/// Every image keeps exactly the same number of patches, so the visible tokens of a batch form one tensor.
/// </summary>
internal sealed class TokenMask : IDisposable
{
    private TokenMask(Tensor keep, Tensor restore, Tensor removed, Tensor adversarial, int keepCount)
    {
        KeepIndices = keep;
        RestoreIndices = restore;
        Removed = removed;
        Adversarial = adversarial;
        KeepCount = keepCount;
    }

    /// <summary>Indices of the visible patches, [N, K] int64, in shuffle order.</summary>
    public Tensor KeepIndices { get; }

    /// <summary>
    /// The restore order, [N, L] int64: the inverse permutation of the shuffle, so that
    /// <c>shuffled.gather(1, RestoreIndices)</c> puts every token back at its patch position.
    /// </summary>
    public Tensor RestoreIndices { get; }

    /// <summary>1 where a patch is removed, 0 where it is visible; [N, L] float32.</summary>
    public Tensor Removed { get; }

    /// <summary>1 where a patch was removed because the masking network chose it, 0 elsewhere; [N, L] float32.</summary>
    public Tensor Adversarial { get; }

    /// <summary>Visible patches per image.</summary>
    public int KeepCount { get; }

    /// <summary>Patches per image.</summary>
    public long PatchCount => RestoreIndices.shape[1];

    /// <summary>
    /// The mask that keeps, in every image, the <paramref name="keepCount"/> patches with the smallest
    /// <paramref name="noise"/> [N, L] (ties broken by a stable sort, i.e. by index).
    /// </summary>
    /// <param name="noise">Per-patch sort keys; uniform noise gives MAE's random masking.</param>
    /// <param name="keepCount">Visible patches per image, in [1, L − 1].</param>
    /// <param name="adversarial">Optional [N, L] 0/1 marks of the removed patches the masking network chose (zeros when null).</param>
    public static TokenMask FromNoise(Tensor noise, int keepCount, Tensor? adversarial = null)
    {
        long patches = noise.shape[1];
        if (keepCount < 1 || keepCount >= patches)
            throw new ArgumentOutOfRangeException(nameof(keepCount), keepCount, $"Between 1 and {patches - 1} of {patches} patches must stay visible.");
        using var scope = NewDisposeScope();
        var shuffle = noise.sort(1, descending: false, stable: true).Indices;
        var restore = shuffle.sort(1, descending: false, stable: true).Indices;
        var keep = shuffle.narrow(1, 0, keepCount);
        // Removed: 0 for the first keepCount positions in shuffle order, 1 after; back to patch order by restore.
        var inShuffleOrder = ones(noise.shape[0], patches, ScalarType.Float32, noise.device);
        inShuffleOrder.narrow(1, 0, keepCount).zero_();
        var removed = inShuffleOrder.gather(1, restore);
        var marks = adversarial is null ? zeros_like(removed) : adversarial.to(ScalarType.Float32).mul(removed);
        return new TokenMask(keep.MoveToOuterDisposeScope(), restore.MoveToOuterDisposeScope(), removed.MoveToOuterDisposeScope(),
            marks.MoveToOuterDisposeScope(), keepCount);
    }

    /// <summary>Removed patches that the masking network did not choose: the random share; [N, L] float32.</summary>
    public Tensor RandomlyRemoved() => Removed.sub(Adversarial);

    /// <summary>Moves every tensor to the dispose scope enclosing the current one; returns this mask.</summary>
    public TokenMask MoveToOuterDisposeScope()
    {
        KeepIndices.MoveToOuterDisposeScope();
        RestoreIndices.MoveToOuterDisposeScope();
        Removed.MoveToOuterDisposeScope();
        Adversarial.MoveToOuterDisposeScope();
        return this;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        KeepIndices.Dispose();
        RestoreIndices.Dispose();
        Removed.Dispose();
        Adversarial.Dispose();
    }
}
