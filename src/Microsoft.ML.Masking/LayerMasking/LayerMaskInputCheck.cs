using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.LayerMasking;

/// <summary>
/// The value checks of LayerMask's input, run on the first batch at Fit and on every batch when scored: masks
/// hold only 0 and 1, and every pixel the method reads is finite.
/// </summary>
/// <remarks>
/// What removed pixels may hold is decided here, once: anything, NaN and infinities included, for every method but
/// <see cref="MaskingMethod.Blur"/>. They are set to 0 before the network, so no value of theirs can reach it.
/// Blur replaces removed pixels by a blur of the whole image, removed ones included (it leaks coarse content by
/// design), so with Blur every pixel must be finite.
/// </remarks>
internal static class LayerMaskInputCheck
{
    /// <summary>
    /// Checks a batch and returns the pixels the method may see (removed ones zeroed, except for Blur).
    /// One host synchronisation when the batch is sound; the failing row is located only on failure.
    /// </summary>
    /// <param name="pixels">[N, C, H, W] in pixel space.</param>
    /// <param name="mask">[N, H, W] as the mask column holds it.</param>
    /// <param name="keep">[N, H, W], 1 = kept (the mask, or 1 − mask when it marks removed pixels).</param>
    /// <param name="method">The masking method.</param>
    /// <param name="imageColumn">Image column name, for messages.</param>
    /// <param name="maskColumn">Mask column name, for messages.</param>
    /// <param name="firstRow">Input position of the batch's first row; −1 when unknown.</param>
    /// <param name="describeRow">Extra words about a row of the batch (e.g. its image path), or null.</param>
    /// <exception cref="InvalidOperationException">A mask value other than 0 and 1, or a NaN/infinite pixel the method reads; the message names the column, the row and the method.</exception>
    public static Tensor Check(Tensor pixels, Tensor mask, Tensor keep, MaskingMethod method, string imageColumn, string maskColumn,
        long firstRow, Func<int, string?>? describeRow = null)
    {
        using var scope = NewDisposeScope();
        var nonBinary = mask.NotEqual(0).logical_and_(mask.NotEqual(1)).flatten(1);
        var kept = keep.GreaterThan(0).unsqueeze(1);
        var nonFinite = isfinite(pixels).logical_not_();
        if (method != MaskingMethod.Blur)
            nonFinite = nonFinite.logical_and_(kept);
        var badMaskRows = nonBinary.any(1);
        var badPixelRows = nonFinite.flatten(1).any(1);
        var flags = stack([badMaskRows.any(), badPixelRows.any()]).cpu().data<bool>().ToArray();
        if (flags[0])
        {
            int row = FirstTrue(badMaskRows);
            float value = mask[row].flatten().masked_select(nonBinary[row])[0].item<float>();
            throw new InvalidOperationException(FormattableString.Invariant(
                $"Column '{maskColumn}', {Row(firstRow, row, describeRow)}: masks must hold only 0 and 1; found {value}. Threshold soft masks before LayerMask."));
        }
        if (flags[1])
        {
            int row = FirstTrue(badPixelRows);
            throw new InvalidOperationException(method == MaskingMethod.Blur
                ? $"Column '{imageColumn}', {Row(firstRow, row, describeRow)}: a pixel is NaN or infinite. Blur reads every pixel, removed ones included; fix the image or filter the row out."
                : $"Column '{imageColumn}', {Row(firstRow, row, describeRow)}: a kept pixel is NaN or infinite. {method} reads every kept pixel (removed ones may hold anything); fix the image or filter the row out.");
        }
        return method == MaskingMethod.Blur ? pixels : where(kept, pixels, 0f).MoveToOuterDisposeScope();
    }

    /// <summary>"row 17" or "row 17 (image 'a.png')", or "row 3 of the batch" when the position is unknown.</summary>
    public static string Row(long firstRow, int rowInBatch, Func<int, string?>? describeRow)
    {
        string text = firstRow >= 0 ? $"row {firstRow + rowInBatch}" : $"row {rowInBatch} of the batch";
        return describeRow?.Invoke(rowInBatch) is { } extra ? $"{text} ({extra})" : text;
    }

    private static int FirstTrue(Tensor flags) => Array.IndexOf(flags.cpu().data<bool>().ToArray(), true);
}
