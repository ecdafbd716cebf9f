namespace Microsoft.ML.Masking.Core.Batching;

/// <summary>The value types a batched transformer can produce.</summary>
internal enum BatchOutputKind
{
    /// <summary>Known-size vector of <see cref="float"/> (e.g. scores), optionally with slot names.</summary>
    FloatVector,

    /// <summary>One <see cref="float"/> per row.</summary>
    Float,

    /// <summary>A <see cref="uint"/> key per row (e.g. PredictedLabel) with key-value names; 0 means missing, 1 is the first value.</summary>
    Key,
}
