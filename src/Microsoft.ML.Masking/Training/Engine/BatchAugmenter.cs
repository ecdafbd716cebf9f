using Microsoft.ML.Masking.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Training.Engine;

/// <summary>
/// Training-time augmentation of a whole batch at once, every random draw taken from the caller's generator
/// (on the CPU, so results do not depend on the device): random crop with zero padding and horizontal flip
/// on raw pixels, random erasing on normalised pixels.
/// </summary>
internal sealed class BatchAugmenter(int cropPadding, bool horizontalFlip, double erasingProbability)
{
    private const double ErasingMinArea = 0.02, ErasingMaxArea = 0.33;
    private const double ErasingMinAspect = 0.3, ErasingMaxAspect = 1 / 0.3;

    /// <summary>Random crop and flip of raw images [B, C, H, W]; returns a new tensor (or the input when both are off).</summary>
    public Tensor CropAndFlip(Tensor images, Generator generator)
    {
        if (cropPadding == 0 && !horizontalFlip)
            return images;
        using var scope = NewDisposeScope();
        long b = images.shape[0], c = images.shape[1], h = images.shape[2], w = images.shape[3];
        var device = images.device;
        var result = images;
        if (cropPadding > 0)
        {
            long p = cropPadding;
            var padded = nn.functional.pad(images, [p, p, p, p]);
            var top = randint(0, 2 * p + 1, [b], ScalarType.Int64, generator: generator).to(device);
            var left = randint(0, 2 * p + 1, [b], ScalarType.Int64, generator: generator).to(device);
            var rows = top.unsqueeze(1).Plus(ScalarMath.Range(h, ScalarType.Int64, device));    // [B, H]
            var columns = left.unsqueeze(1).Plus(ScalarMath.Range(w, ScalarType.Int64, device)); // [B, W]
            var rowsCropped = padded.gather(2, rows.view(b, 1, h, 1).expand(b, c, h, w + 2 * p));
            result = rowsCropped.gather(3, columns.view(b, 1, 1, w).expand(b, c, h, w));
        }
        if (horizontalFlip)
        {
            var flip = rand([b], generator: generator).LessThan(0.5).to(device).view(b, 1, 1, 1);
            result = where(flip, result.flip(3), result);
        }
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Random erasing of normalised images [B, C, H, W]: with the configured probability per image, one rectangle
    /// is set to 0 (the mean colour). Rectangles larger than the image are clipped to it.
    /// </summary>
    public Tensor Erase(Tensor images, Generator generator)
    {
        if (erasingProbability == 0)
            return images;
        using var scope = NewDisposeScope();
        long b = images.shape[0], h = images.shape[2], w = images.shape[3];
        var device = images.device;
        var apply = rand([b], generator: generator).LessThan(erasingProbability);
        var area = rand([b], generator: generator).Times(ErasingMaxArea - ErasingMinArea).Plus(ErasingMinArea).Times(h * w);
        var aspect = rand([b], generator: generator).Times(Math.Log(ErasingMaxAspect) - Math.Log(ErasingMinAspect)).Plus(Math.Log(ErasingMinAspect)).exp();
        var height = (area * aspect).sqrt().round().Clamp(1, h);
        var width = (area / aspect).sqrt().round().Clamp(1, w);
        // h − height + 1 and w − width + 1 are whole numbers, so −height + (h + 1) is exact.
        var top = (rand([b], generator: generator) * height.neg().Plus(h + 1)).floor();
        var left = (rand([b], generator: generator) * width.neg().Plus(w + 1)).floor();

        var rowIndex = ScalarMath.Range(h, ScalarType.Float32).unsqueeze(0);
        var columnIndex = ScalarMath.Range(w, ScalarType.Float32).unsqueeze(0);
        var inRows = rowIndex.ge(top.unsqueeze(1)).logical_and(rowIndex.lt(top.Plus(height).unsqueeze(1)));          // [B, H]
        var inColumns = columnIndex.ge(left.unsqueeze(1)).logical_and(columnIndex.lt(left.Plus(width).unsqueeze(1))); // [B, W]
        var box = inRows.unsqueeze(2).logical_and(inColumns.unsqueeze(1)).logical_and(apply.view(b, 1, 1));      // [B, H, W]
        return images.Fill(box.unsqueeze(1).to(device), 0).MoveToOuterDisposeScope();
    }
}
