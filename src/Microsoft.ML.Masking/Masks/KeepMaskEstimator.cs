using Microsoft.ML.Data;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.Masks.Engine;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Masking.Masks;

/// <summary>
/// Estimator of a <see cref="KeepMaskTransformer"/>: checks the options when created (errors name the option), and
/// the input columns and mask size when fitted (errors name the column). Nothing is learned. Create it with a
/// <see cref="MaskCatalog"/> method.
/// </summary>
public sealed class KeepMaskEstimator : IEstimator<KeepMaskTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly string _outputColumnName;
    private readonly IReadOnlyList<string> _inputColumnNames;
    private readonly Func<DataViewSchema, KeepMaskRecipe> _recipe;

    private KeepMaskEstimator(IHostEnvironment env, KeepMaskOptions options, IReadOnlyList<string> inputColumnNames, Func<DataViewSchema, KeepMaskRecipe> recipe)
    {
        _env = env ?? throw new ArgumentNullException(nameof(env));
        ArgumentException.ThrowIfNullOrWhiteSpace(options.OutputColumnName, nameof(KeepMaskOptions.OutputColumnName));
        if (options.ImageWidth < 0)
            throw new ArgumentOutOfRangeException(nameof(KeepMaskOptions.ImageWidth), options.ImageWidth, "ImageWidth must be positive, or 0 to follow the input column.");
        if (options.ImageHeight < 0)
            throw new ArgumentOutOfRangeException(nameof(KeepMaskOptions.ImageHeight), options.ImageHeight, "ImageHeight must be positive, or 0 to follow the input column.");
        if ((options.ImageWidth == 0) != (options.ImageHeight == 0))
            throw new ArgumentException($"Give both ImageWidth and ImageHeight, or neither; got {options.ImageWidth}×{options.ImageHeight}.", nameof(KeepMaskOptions.ImageWidth));
        _outputColumnName = options.OutputColumnName;
        _inputColumnNames = inputColumnNames;
        _recipe = recipe;
    }

    /// <summary>Checks the input columns and makes the transformer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or not a float vector of a fitting size.</exception>
    /// <exception cref="ArgumentException">The mask size contradicts an input column's dimensions, or a box or patch does not fit it.</exception>
    public KeepMaskTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new KeepMaskTransformer(_env, _recipe(input.Schema));
    }

    /// <summary>Checks that the input columns are float vectors and adds the keep-mask column.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        foreach (var name in _inputColumnNames)
            SchemaChecks.CheckFloatVector(inputSchema, name, nameof(inputSchema));
        return SchemaShapeColumns.Append(inputSchema, [SchemaShapeColumns.FloatVector(_outputColumnName)]);
    }

    internal static KeepMaskEstimator Boxes(IHostEnvironment env, BoxMaskOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.InputColumnName, nameof(BoxMaskOptions.InputColumnName));
        var boxes = options.Boxes?.ToArray() ?? throw new ArgumentNullException(nameof(BoxMaskOptions.Boxes));
        if (boxes.Length == 0)
            throw new ArgumentException("Give at least one box.", nameof(BoxMaskOptions.Boxes));
        for (int i = 0; i < boxes.Length; i++)
            if (boxes[i].X < 0 || boxes[i].Y < 0 || boxes[i].Width < 1 || boxes[i].Height < 1)
                throw new ArgumentOutOfRangeException(nameof(BoxMaskOptions.Boxes), boxes[i], $"Boxes[{i}] {boxes[i]} needs X, Y ≥ 0 and Width, Height ≥ 1.");
        CheckEnum(options.Selection, nameof(BoxMaskOptions.Selection));
        return new(env, options, [options.InputColumnName], schema =>
        {
            var (height, width, size) = MaskInputShape.Resolve(schema, options.InputColumnName, options, perPixel: false);
            for (int i = 0; i < boxes.Length; i++)
                if (boxes[i].X + boxes[i].Width > width || boxes[i].Y + boxes[i].Height > height)
                    throw new ArgumentOutOfRangeException(nameof(BoxMaskOptions.Boxes), boxes[i], $"Boxes[{i}] {boxes[i]} reaches outside the {width}×{height} image of column '{options.InputColumnName}'.");
            return new KeepMaskRecipe(MaskKind.Boxes, options.OutputColumnName, [options.InputColumnName], [size], height, width)
            {
                Boxes = boxes,
                Selection = options.Selection,
            };
        });
    }

    internal static KeepMaskEstimator PatchGrid(IHostEnvironment env, PatchGridMaskOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.InputColumnName, nameof(PatchGridMaskOptions.InputColumnName));
        if (options.PatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(PatchGridMaskOptions.PatchSize), options.PatchSize, "PatchSize must be at least 1 pixel.");
        if (!(options.RemoveFraction >= 0 && options.RemoveFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(PatchGridMaskOptions.RemoveFraction), options.RemoveFraction, "RemoveFraction must be in [0, 1].");
        return new(env, options, [options.InputColumnName], schema =>
        {
            var (height, width, size) = MaskInputShape.Resolve(schema, options.InputColumnName, options, perPixel: false);
            if (options.PatchSize > Math.Max(height, width))
                throw new ArgumentOutOfRangeException(nameof(PatchGridMaskOptions.PatchSize), options.PatchSize,
                    $"PatchSize {options.PatchSize} is larger than the {width}×{height} image of column '{options.InputColumnName}'.");
            return new KeepMaskRecipe(MaskKind.PatchGrid, options.OutputColumnName, [options.InputColumnName], [size], height, width)
            {
                PatchSize = options.PatchSize,
                RemoveFraction = options.RemoveFraction,
                Seed = options.Seed,
            };
        });
    }

    internal static KeepMaskEstimator Segments(IHostEnvironment env, SegmentMaskOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.InputColumnName, nameof(SegmentMaskOptions.InputColumnName));
        var ids = options.SegmentIds?.ToArray() ?? throw new ArgumentNullException(nameof(SegmentMaskOptions.SegmentIds));
        if (ids.Length == 0)
            throw new ArgumentException("Give at least one segment id.", nameof(SegmentMaskOptions.SegmentIds));
        for (int i = 0; i < ids.Length; i++)
            if (ids[i] < 0 || ids[i] > 1 << 24)
                throw new ArgumentOutOfRangeException(nameof(SegmentMaskOptions.SegmentIds), ids[i], $"SegmentIds[{i}] is {ids[i]}; segment ids are whole numbers from 0 to 2^24.");
        CheckEnum(options.Selection, nameof(SegmentMaskOptions.Selection));
        return new(env, options, [options.InputColumnName], schema =>
        {
            var (height, width, size) = MaskInputShape.Resolve(schema, options.InputColumnName, options, perPixel: true);
            return new KeepMaskRecipe(MaskKind.Segments, options.OutputColumnName, [options.InputColumnName], [size], height, width)
            {
                SegmentIds = ids.Distinct().Order().ToArray(),
                Selection = options.Selection,
            };
        });
    }

    internal static KeepMaskEstimator Combine(IHostEnvironment env, CombineMasksOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var names = options.InputColumnNames?.ToArray() ?? throw new ArgumentNullException(nameof(CombineMasksOptions.InputColumnNames));
        if (names.Length < 2)
            throw new ArgumentException($"Give at least two mask columns to combine; got {names.Length}.", nameof(CombineMasksOptions.InputColumnNames));
        for (int i = 0; i < names.Length; i++)
            ArgumentException.ThrowIfNullOrWhiteSpace(names[i], $"{nameof(CombineMasksOptions.InputColumnNames)}[{i}]");
        CheckEnum(options.Combination, nameof(CombineMasksOptions.Combination));
        return new(env, options, names, schema =>
        {
            var shapes = names.Select(name => MaskInputShape.Resolve(schema, name, options, perPixel: true)).ToArray();
            for (int i = 1; i < shapes.Length; i++)
                if (shapes[i].Height != shapes[0].Height || shapes[i].Width != shapes[0].Width)
                    throw new ArgumentException(
                        $"Column '{names[i]}' holds {shapes[i].Width}×{shapes[i].Height} masks but column '{names[0]}' {shapes[0].Width}×{shapes[0].Height}; combined masks must be the same size.",
                        nameof(CombineMasksOptions.InputColumnNames));
            return new KeepMaskRecipe(MaskKind.Combine, options.OutputColumnName, names, shapes.Select(s => s.Size).ToArray(), shapes[0].Height, shapes[0].Width)
            {
                Combination = options.Combination,
            };
        });
    }

    internal static KeepMaskEstimator Threshold(IHostEnvironment env, ThresholdMaskOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.InputColumnName, nameof(ThresholdMaskOptions.InputColumnName));
        if (!float.IsFinite(options.Threshold))
            throw new ArgumentOutOfRangeException(nameof(ThresholdMaskOptions.Threshold), options.Threshold, "Threshold must be a finite number.");
        return new(env, options, [options.InputColumnName], schema =>
        {
            var (height, width, size) = MaskInputShape.Resolve(schema, options.InputColumnName, options, perPixel: false);
            return new KeepMaskRecipe(MaskKind.Threshold, options.OutputColumnName, [options.InputColumnName], [size], height, width)
            {
                Threshold = options.Threshold,
                Invert = options.Invert,
            };
        });
    }

    private static void CheckEnum<T>(T value, string name) where T : struct, Enum
    {
        if (!Enum.IsDefined(value))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be one of {string.Join(", ", Enum.GetNames<T>())}.");
    }
}
