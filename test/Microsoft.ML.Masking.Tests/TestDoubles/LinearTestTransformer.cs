using Microsoft.ML;
using Microsoft.ML.Masking.Core.Batching;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.Tests.TestDoubles;
using Microsoft.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

[assembly: LoadableClass(typeof(LinearTestTransformer), null, typeof(SignatureLoadModel), "Linear test transformer", LinearTestTransformer.LoaderSignature)]

namespace Microsoft.ML.Masking.Tests.TestDoubles;

/// <summary>
/// Test-only transformer on <see cref="BatchedTorchTransformer"/>: a seeded linear layer from a float vector to
/// class scores, plus the arg-max as a key column and the max score as a float. Small, but it exercises every
/// part of the base: batching, every output kind, annotations and persistence.
/// </summary>
public sealed class LinearTestTransformer : BatchedTorchTransformer
{
    internal const string LoaderSignature = "LinearTestTransformer";
    internal static readonly ModelFormat ModelFormat = new("LINTESTT", LoaderSignature, typeof(LinearTestTransformer));

    internal const string ScoreColumn = "Score";
    internal const string PredictedLabelColumn = "PredictedLabel";
    internal const string MaxScoreColumn = "MaxScore";

    private readonly nn.Module<Tensor, Tensor> _linear;

    internal sealed record Header(string InputColumn, int InputSize, string[] Classes, int BatchSize);

    internal LinearTestTransformer(IHostEnvironment env, string inputColumn, int inputSize, string[] classes, int batchSize, long seed)
        : this(env, new Header(inputColumn, inputSize, classes, batchSize), MakeLinear(inputSize, classes.Length, seed))
    {
    }

    private LinearTestTransformer(IHostEnvironment env, Header header, nn.Module<Tensor, Tensor> linear)
        : base(env, nameof(LinearTestTransformer),
            [new BatchInputColumn(header.InputColumn, header.InputSize)],
            [
                BatchOutputColumn.FloatVector(ScoreColumn, header.Classes.Length, header.Classes),
                BatchOutputColumn.Key(PredictedLabelColumn, header.Classes),
                BatchOutputColumn.Float(MaxScoreColumn),
            ],
            header.BatchSize)
    {
        HeaderValue = header;
        _linear = linear;
        _linear.eval();
    }

    internal Header HeaderValue { get; }

    internal nn.Module<Tensor, Tensor> Linear => _linear;

    /// <summary>Rows seen by each kernel call, in order (for batching assertions).</summary>
    internal List<int> BatchRowCounts { get; } = [];

    private static nn.Module<Tensor, Tensor> MakeLinear(int inputSize, int classes, long seed)
    {
        var linear = nn.Linear(inputSize, classes);
        using var noGrad = no_grad();
        var generator = new Generator((ulong)seed);
        linear.weight.uniform_(-1, 1, generator);
        linear.bias!.uniform_(-1, 1, generator);
        return linear;
    }

    private protected override ModelFormat Format => ModelFormat;

    private protected override void SaveModel(ModelContentWriter writer)
    {
        writer.WriteJson("Header.json", HeaderValue);
        writer.WriteWeights("Weights.safetensors", _linear);
    }

    private static LinearTestTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        var reader = ModelContentReader.Open(ctx, ModelFormat);
        var header = reader.ReadJson<Header>("Header.json");
        var linear = nn.Linear(header.InputSize, header.Classes.Length);
        reader.ReadWeights("Weights.safetensors", linear);
        return new LinearTestTransformer(env, header, linear);
    }

    private protected override void MapBatch(BatchBuffers inputs, BatchBuffers outputs, int rowCount)
    {
        lock (BatchRowCounts)
            BatchRowCounts.Add(rowCount);
        var scores = _linear.forward(inputs[0].ToTensor(rowCount));
        if (outputs[0].IsActive)
            outputs[0].CopyFrom(scores, rowCount);
        var (max, argmax) = scores.max(1);
        if (outputs[1].IsActive)
            outputs[1].CopyKeysFrom(argmax, rowCount);
        if (outputs[2].IsActive)
            outputs[2].CopyFrom(max, rowCount);
    }
}
