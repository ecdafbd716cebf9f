using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Pretraining.Engine;

/// <summary>
/// Cuts images into the MAE's patch vectors and back. Patch <c>l = row · columns + column</c> of an image
/// [C, H, W] is the vector of its p × p × C values ordered (pixel row, pixel column, channel), as in the MAE
/// reference's <c>patchify</c>.
/// </summary>
internal static class PatchLayout
{
    /// <summary>[N, C, H, W] → [N, L, p·p·C].</summary>
    public static Tensor Patchify(Tensor images, int patchSize)
    {
        long n = images.shape[0], c = images.shape[1], h = images.shape[2] / patchSize, w = images.shape[3] / patchSize;
        return images.reshape(n, c, h, patchSize, w, patchSize)
            .permute(0, 2, 4, 3, 5, 1)
            .reshape(n, h * w, (long)patchSize * patchSize * c);
    }

    /// <summary>[N, L, p·p·C] → [N, C, H, W], the inverse of <see cref="Patchify"/>.</summary>
    public static Tensor Unpatchify(Tensor patches, int patchSize, int channels, int rows, int columns)
    {
        long n = patches.shape[0];
        return patches.reshape(n, rows, columns, patchSize, patchSize, channels)
            .permute(0, 5, 1, 3, 2, 4)
            .reshape(n, channels, (long)rows * patchSize, (long)columns * patchSize);
    }

    /// <summary>Per-patch means of a per-pixel map [N, 1, H, W] (or [N, H, W]) → [N, L].</summary>
    public static Tensor PoolPerPatch(Tensor pixelMap, int patchSize)
    {
        var map = pixelMap.dim() == 3 ? pixelMap.unsqueeze(1) : pixelMap;
        return nn.functional.avg_pool2d(map, patchSize, patchSize).flatten(1);
    }
}
