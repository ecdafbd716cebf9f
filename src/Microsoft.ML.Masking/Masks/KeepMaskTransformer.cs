using Microsoft.ML;
using Microsoft.ML.Masking.Core.Batching;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.Masks;
using Microsoft.ML.Masking.Masks.Engine;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(KeepMaskTransformer), null, typeof(SignatureLoadModel), "Keep mask", KeepMaskTransformer.LoaderSignature)]

namespace Microsoft.ML.Masking.Masks;

/// <summary>
/// Writes a keep-mask column (height × width floats, row-major, 1 = keep, dimensions [height, width]) made as one
/// of the <see cref="MaskCatalog"/> methods says: boxes, a random patch grid, chosen segments, a combination of
/// masks, or a thresholded mask image. Lazy, and saved in model.zip with the rest of the pipeline.
/// </summary>
public sealed class KeepMaskTransformer : BatchedTorchTransformer
{
    internal const string LoaderSignature = "KeepMaskTransformer";
    private static readonly ModelFormat ModelFormat = new("KEEPMASK", LoaderSignature, typeof(KeepMaskTransformer));
    private const string HeaderEntry = "Header.json";
    private const int RowsPerBatch = 64;

    private readonly KeepMaskRecipe _recipe;
    private readonly KeepMaskPainter _painter;

    internal KeepMaskTransformer(IHostEnvironment env, KeepMaskRecipe recipe)
        : base(env, nameof(KeepMaskTransformer),
            recipe.InputColumnNames.Select((name, i) => new BatchInputColumn(name, recipe.InputSizes[i])).ToArray(),
            [BatchOutputColumn.FloatVector(recipe.OutputColumnName, recipe.Height * recipe.Width, dimensions: [recipe.Height, recipe.Width])],
            RowsPerBatch)
    {
        _recipe = recipe;
        _painter = new KeepMaskPainter(recipe);
    }

    /// <summary>The keep-mask column this transformer writes.</summary>
    public string OutputColumnName => _recipe.OutputColumnName;

    /// <summary>Mask height in pixels.</summary>
    public int ImageHeight => _recipe.Height;

    /// <summary>Mask width in pixels.</summary>
    public int ImageWidth => _recipe.Width;

    internal KeepMaskRecipe Recipe => _recipe;

    private protected override ModelFormat Format => ModelFormat;

    private protected override void SaveModel(ModelContentWriter writer) => writer.WriteJson(HeaderEntry, _recipe);

    private static KeepMaskTransformer Create(IHostEnvironment env, ModelLoadContext ctx) =>
        new(env, ModelContentReader.Open(ctx, ModelFormat).ReadJson<KeepMaskRecipe>(HeaderEntry));

    private protected override void MapBatch(BatchBuffers inputs, BatchBuffers outputs, int rowCount)
    {
        var output = outputs[0];
        if (!output.IsActive)
            return;
        var rows = new ReadOnlyMemory<float>[inputs.Count];
        for (int i = 0; i < rowCount; i++)
        {
            for (int c = 0; c < inputs.Count; c++)
                rows[c] = inputs[c].Values.AsMemory(i * inputs[c].RowSize, inputs[c].RowSize);
            _painter.Paint(inputs.FirstRow + i, rows, output.Row(i));
        }
    }
}
