using Microsoft.ML.Masking.Core.Randomness;
using Microsoft.ML.Masking.Core.Segmentation;

namespace Microsoft.ML.Masking.Masks.Engine;

/// <summary>
/// Paints keep-masks (1 keep, 0 remove; H × W, row-major) as a <see cref="KeepMaskRecipe"/> says. Immutable after
/// construction, so any number of cursors may paint at once. Row-level problems (a bad segment id, a mask value
/// that is not 0 or 1, NaN) throw <see cref="InvalidOperationException"/> naming the column and the row.
/// </summary>
internal sealed class KeepMaskPainter
{
    private readonly KeepMaskRecipe _recipe;
    private readonly float[]? _fixedMask;
    private readonly SegmentMap? _patches;
    private readonly HashSet<int> _segmentIds;

    public KeepMaskPainter(KeepMaskRecipe recipe)
    {
        _recipe = recipe;
        _segmentIds = [.. recipe.SegmentIds];
        if (recipe.Kind == MaskKind.Boxes)
            _fixedMask = PaintBoxes(recipe);
        if (recipe.Kind == MaskKind.PatchGrid)
            _patches = SegmentMap.Patches(recipe.Height, recipe.Width, recipe.PatchSize);
    }

    /// <summary>
    /// Paints the mask of the row at data-view position <paramref name="row"/> into <paramref name="keep"/>;
    /// <paramref name="inputs"/> are that row's values of <see cref="KeepMaskRecipe.InputColumnNames"/>.
    /// </summary>
    public void Paint(long row, IReadOnlyList<ReadOnlyMemory<float>> inputs, Span<float> keep)
    {
        switch (_recipe.Kind)
        {
            case MaskKind.Boxes:
                _fixedMask.CopyTo(keep);
                break;
            case MaskKind.PatchGrid:
                PaintPatches(row, keep);
                break;
            case MaskKind.Segments:
                PaintSegments(row, inputs[0].Span, keep);
                break;
            case MaskKind.Combine:
                PaintCombination(row, inputs, keep);
                break;
            case MaskKind.Threshold:
                PaintThreshold(row, inputs[0].Span, keep);
                break;
            default:
                throw new InvalidOperationException($"Unknown mask kind {_recipe.Kind}.");
        }
    }

    private static float[] PaintBoxes(KeepMaskRecipe r)
    {
        var keep = new float[r.Pixels];
        float inside = r.Selection == MaskSelection.Remove ? 0f : 1f;
        Array.Fill(keep, 1f - inside);
        foreach (var box in r.Boxes)
            for (int y = box.Y; y < box.Y + box.Height; y++)
                keep.AsSpan(y * r.Width + box.X, box.Width).Fill(inside);
        return keep;
    }

    private void PaintPatches(long row, Span<float> keep)
    {
        var map = _patches!;
        var random = SeedMixer.Random(_recipe.Seed, SeedStream.PatchMask, row);
        var order = random.Permutation(map.SegmentCount);
        var removed = new bool[map.SegmentCount];
        int count = map.SegmentsForFraction(_recipe.RemoveFraction);
        for (int i = 0; i < count; i++)
            removed[order[i]] = true;
        map.WriteKeepMask(removed, keep);
    }

    private void PaintSegments(long row, ReadOnlySpan<float> ids, Span<float> keep)
    {
        float chosen = _recipe.Selection == MaskSelection.Remove ? 0f : 1f;
        for (int p = 0; p < ids.Length; p++)
        {
            float id = ids[p];
            if (!(id >= 0) || id != MathF.Floor(id) || id > 1 << 24)
                throw new InvalidOperationException(
                    FormattableString.Invariant($"Column '{_recipe.InputColumnNames[0]}', row {row}: segment ids must be non-negative whole numbers; pixel {p} (y {p / _recipe.Width}, x {p % _recipe.Width}) holds {id}."));
            keep[p] = _segmentIds.Contains((int)id) ? chosen : 1f - chosen;
        }
    }

    private void PaintCombination(long row, IReadOnlyList<ReadOnlyMemory<float>> inputs, Span<float> keep)
    {
        bool removedWins = _recipe.Combination == MaskCombination.UnionOfRemoved;
        keep.Fill(removedWins ? 1f : 0f);
        for (int c = 0; c < inputs.Count; c++)
        {
            var mask = inputs[c].Span;
            for (int p = 0; p < mask.Length; p++)
            {
                float v = mask[p];
                if (v != 0f && v != 1f)
                    throw new InvalidOperationException(
                        FormattableString.Invariant($"Column '{_recipe.InputColumnNames[c]}', row {row}: a keep-mask holds only 0 and 1; pixel {p} (y {p / _recipe.Width}, x {p % _recipe.Width}) holds {v}."));
                keep[p] = removedWins ? MathF.Min(keep[p], v) : MathF.Max(keep[p], v);
            }
        }
    }

    private void PaintThreshold(long row, ReadOnlySpan<float> planes, Span<float> keep)
    {
        int pixels = _recipe.Pixels, channels = planes.Length / pixels;
        for (int p = 0; p < pixels; p++)
        {
            float sum = 0;
            for (int c = 0; c < channels; c++)
                sum += planes[c * pixels + p];
            float mean = sum / channels;
            if (float.IsNaN(mean))
                throw new InvalidOperationException(
                    $"Column '{_recipe.InputColumnNames[0]}', row {row}: pixel {p} (y {p / _recipe.Width}, x {p % _recipe.Width}) is NaN; a mask image needs numbers.");
            keep[p] = (mean >= _recipe.Threshold) != _recipe.Invert ? 1f : 0f;
        }
    }
}
