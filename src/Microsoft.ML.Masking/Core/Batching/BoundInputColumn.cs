using Microsoft.ML.Masking.Data;

namespace Microsoft.ML.Masking.Core.Batching;

/// <summary>A <see cref="BatchInputColumn"/> checked against a schema: the schema column and everything found there.</summary>
internal sealed class BoundInputColumn
{
    internal BoundInputColumn(BatchInputColumn spec, DataViewSchema.Column column, int size, long[] rowShape,
        ImageShape? shape = null, int classCount = 0, bool isKey = false, IReadOnlyList<string>? classNames = null)
    {
        Spec = spec;
        Column = column;
        Size = size;
        RowShape = rowShape;
        Shape = shape;
        ClassCount = classCount;
        IsKey = isKey;
        ClassNames = classNames;
    }

    /// <summary>What the caller asked for.</summary>
    public BatchInputColumn Spec { get; }

    /// <summary>The schema column.</summary>
    public DataViewSchema.Column Column { get; }

    /// <summary>Column name.</summary>
    public string Name => Spec.Name;

    /// <summary>Values per row (1 for labels and weights).</summary>
    public int Size { get; }

    /// <summary>The shape of one row as a tensor: [C, H, W] for images, [H, W] per pixel, [] for labels and weights, [Size] otherwise.</summary>
    public long[] RowShape { get; }

    /// <summary>The image layout, for image and per-pixel columns.</summary>
    public ImageShape? Shape { get; }

    /// <summary>For labels: the number of classes.</summary>
    public int ClassCount { get; }

    /// <summary>For labels: whether the schema column is a key (else a 0-based number).</summary>
    public bool IsKey { get; }

    /// <summary>For key labels: the key values (class names), or null when the key has none.</summary>
    public IReadOnlyList<string>? ClassNames { get; }
}
