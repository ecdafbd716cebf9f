using Microsoft.ML;
using Microsoft.ML.Masking.Core.Batching;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.Tests.TestDoubles;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(ScaleTestTransformer), null, typeof(SignatureLoadModel), "Scale", ScaleTestTransformer.LoaderSignature)]

namespace Microsoft.ML.Masking.Tests.TestDoubles;

/// <summary>The minimal transformer of docs/architecture.md, kept compiling and working by a test.</summary>
public sealed class ScaleTestTransformer : BatchedTorchTransformer
{
    internal const string LoaderSignature = "ScaleTransformer";
    private static readonly ModelFormat ModelFormat = new("SCALETRN", LoaderSignature, typeof(ScaleTestTransformer));
    internal sealed record Header(string Input, string Output, int Size, float Factor, int BatchSize);
    private readonly Header _h;

    internal ScaleTestTransformer(IHostEnvironment env, Header h) : base(env, nameof(ScaleTestTransformer),
        [new BatchInputColumn(h.Input, h.Size)], [BatchOutputColumn.FloatVector(h.Output, h.Size)], h.BatchSize) => _h = h;

    private protected override ModelFormat Format => ModelFormat;
    private protected override void SaveModel(ModelContentWriter writer) => writer.WriteJson("Header.json", _h);
    private static ScaleTestTransformer Create(IHostEnvironment env, ModelLoadContext ctx) =>
        new(env, ModelContentReader.Open(ctx, ModelFormat).ReadJson<Header>("Header.json"));

    private protected override void MapBatch(BatchBuffers inputs, BatchBuffers outputs, int rowCount) =>
        outputs[0].CopyFrom(inputs[0].ToTensor(rowCount) * _h.Factor, rowCount);
}
