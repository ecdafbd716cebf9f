using Microsoft.ML.Data;

namespace Microsoft.ML.Masking.Core.Batching;

/// <summary>Getters that serve one output column from a batch buffer.</summary>
internal static class BatchOutputGetters
{
    /// <summary>
    /// A getter for <paramref name="column"/>; <paramref name="currentSlot"/> makes sure the current row's batch is
    /// computed and returns the row's slot in <paramref name="buffer"/>.
    /// </summary>
    public static ValueGetter<TValue> Create<TValue>(BatchOutputColumn column, BatchColumnBuffer buffer, Func<int> currentSlot)
    {
        Delegate getter = column.Kind switch
        {
            BatchOutputKind.FloatVector => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
            {
                var row = buffer.Row(currentSlot());
                var editor = VBufferEditor.Create(ref value, row.Length);
                row.CopyTo(editor.Values);
                value = editor.Commit();
            }),
            BatchOutputKind.Float => (ValueGetter<float>)((ref float value) => value = buffer.Values[currentSlot()]),
            BatchOutputKind.Key => (ValueGetter<uint>)((ref uint value) => value = buffer.Keys[currentSlot()]),
            _ => throw new InvalidOperationException($"Unknown output kind {column.Kind}."),
        };
        return getter as ValueGetter<TValue>
            ?? throw new InvalidOperationException(
                $"Invalid TValue in GetGetter for column '{column.Name}': expected {ValueTypeName(column.Kind)}, got {typeof(TValue).Name}.");
    }

    private static string ValueTypeName(BatchOutputKind kind) => kind switch
    {
        BatchOutputKind.FloatVector => "VBuffer<Single>",
        BatchOutputKind.Float => "Single",
        _ => "UInt32",
    };
}
