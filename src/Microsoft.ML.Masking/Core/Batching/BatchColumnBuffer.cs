using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core.Batching;

/// <summary>
/// Contiguous storage of one column for a batch of rows: row <c>r</c> occupies
/// <c>[r * RowSize, (r + 1) * RowSize)</c>. Float columns use <see cref="Values"/>; key columns use <see cref="Keys"/>.
/// The arrays are reused from batch to batch: a kernel must copy what it needs (tensors made with
/// <c>ToTensor</c> are copies) and must not keep references to them.
/// </summary>
internal sealed class BatchColumnBuffer
{
    internal BatchColumnBuffer(string name, int rowSize, int capacity, int keyCount, bool isActive, long[]? rowShape = null)
    {
        bool isKey = keyCount > 0;
        Name = name;
        RowSize = rowSize;
        Capacity = capacity;
        IsKey = isKey;
        KeyCount = keyCount;
        IsActive = isActive;
        Values = isKey ? [] : new float[checked(rowSize * capacity)];
        Keys = isKey ? new uint[capacity] : [];
        RowShape = rowShape ?? [rowSize];
    }

    /// <summary>The shape of one row as a tensor (e.g. [C, H, W] for images, [H, W] per pixel, [] for scalars); [RowSize] unless set.</summary>
    public long[] RowShape { get; }

    /// <summary>Column name.</summary>
    public string Name { get; }

    /// <summary>Values per row.</summary>
    public int RowSize { get; }

    /// <summary>Rows the buffer holds at most (the batch size).</summary>
    public int Capacity { get; }

    /// <summary>True for a key column (<see cref="Keys"/>); false for float columns (<see cref="Values"/>).</summary>
    public bool IsKey { get; }

    /// <summary>Number of key values of a key column (0 for float columns).</summary>
    public int KeyCount { get; }

    /// <summary>
    /// False when no consumer asked for this output column: the kernel may skip computing it (its content is ignored).
    /// Always true for inputs.
    /// </summary>
    public bool IsActive { get; }

    /// <summary>Float storage, <c>Capacity × RowSize</c> values (empty for key columns).</summary>
    public float[] Values { get; }

    /// <summary>Key storage, one per row, 1-based (0 = missing) as ML.NET keys are (empty for float columns).</summary>
    public uint[] Keys { get; }

    /// <summary>The values of row <paramref name="row"/>.</summary>
    public Span<float> Row(int row) => Values.AsSpan(row * RowSize, RowSize);

    /// <summary>
    /// Copies the first <paramref name="rowCount"/> rows into a new float32 tensor of shape
    /// <c>[rowCount, ..<see cref="RowShape"/>]</c> on <paramref name="device"/> (CPU by default).
    /// </summary>
    public Tensor ToTensor(int rowCount, Device? device)
    {
        CheckRowCount(rowCount);
        return RowShape.Length == 0 ? Copy(rowCount, [rowCount], device) : ToTensor(rowCount, RowShape, device);
    }

    /// <summary>
    /// The class indices (0-based: key − 1) of the first <paramref name="rowCount"/> rows of a key column, as an int64
    /// tensor <c>[rowCount]</c> on <paramref name="device"/> (CPU by default).
    /// </summary>
    public Tensor ToClassIndices(int rowCount, Device? device = null)
    {
        CheckRowCount(rowCount);
        if (!IsKey)
            throw new InvalidOperationException($"Column '{Name}' holds floats, not keys.");
        var indices = new long[rowCount];
        for (int r = 0; r < rowCount; r++)
            indices[r] = (long)Keys[r] - 1;
        var tensor = TorchSharp.torch.tensor(indices, ScalarType.Int64);
        return device is null || device.type == TorchSharp.DeviceType.CPU ? tensor : tensor.to(device);
    }

    /// <summary>
    /// Copies the first <paramref name="rowCount"/> rows into a new float32 tensor of shape
    /// <c>[rowCount, ..rowShape]</c> on <paramref name="device"/> (CPU by default). The product of
    /// <paramref name="rowShape"/> must equal <see cref="RowSize"/>; with no shape the tensor is <c>[rowCount, RowSize]</c>.
    /// </summary>
    public Tensor ToTensor(int rowCount, ReadOnlySpan<long> rowShape = default, Device? device = null)
    {
        CheckRowCount(rowCount);
        long[] shape = new long[1 + Math.Max(rowShape.Length, 1)];
        shape[0] = rowCount;
        if (rowShape.IsEmpty)
        {
            shape[1] = RowSize;
        }
        else
        {
            long product = 1;
            for (int i = 0; i < rowShape.Length; i++) { shape[i + 1] = rowShape[i]; product *= rowShape[i]; }
            if (product != RowSize)
                throw new ArgumentException($"Column '{Name}' has {RowSize} values per row; shape [{string.Join(", ", rowShape.ToArray())}] holds {product}.", nameof(rowShape));
        }
        return Copy(rowCount, shape, device);
    }

    private Tensor Copy(int rowCount, long[] shape, Device? device)
    {
        if (IsKey)
            throw new InvalidOperationException($"Column '{Name}' holds keys; use {nameof(ToClassIndices)}.");
        var tensor = empty(shape, ScalarType.Float32);
        tensor.bytes = MemoryMarshal.AsBytes(Values.AsSpan(0, rowCount * RowSize));
        return device is null || device.type == TorchSharp.DeviceType.CPU ? tensor : tensor.to(device);
    }

    /// <summary>
    /// Copies <paramref name="values"/> (any shape with <c>rowCount × RowSize</c> elements, any device, converted
    /// to float32) into the first <paramref name="rowCount"/> rows.
    /// </summary>
    public void CopyFrom(Tensor values, int rowCount)
    {
        ArgumentNullException.ThrowIfNull(values);
        CheckRowCount(rowCount);
        if (IsKey)
            throw new InvalidOperationException($"Column '{Name}' holds keys; use {nameof(CopyKeysFrom)}.");
        long expected = (long)rowCount * RowSize;
        if (values.numel() != expected)
            throw new ArgumentException($"Column '{Name}' takes {rowCount} rows × {RowSize} values = {expected}; the tensor has shape [{string.Join(", ", values.shape)}].", nameof(values));
        using var cpu = values.detach().to(ScalarType.Float32, CPU).contiguous();
        MemoryMarshal.Cast<byte, float>(cpu.bytes).CopyTo(Values.AsSpan(0, (int)expected));
    }

    /// <summary>
    /// Stores 0-based class indices (an integer tensor with <paramref name="rowCount"/> elements) as 1-based keys.
    /// </summary>
    public void CopyKeysFrom(Tensor classIndices, int rowCount)
    {
        ArgumentNullException.ThrowIfNull(classIndices);
        CheckRowCount(rowCount);
        if (!IsKey)
            throw new InvalidOperationException($"Column '{Name}' holds floats; use {nameof(CopyFrom)}.");
        if (classIndices.numel() != rowCount)
            throw new ArgumentException($"Column '{Name}' takes {rowCount} keys; the tensor has shape [{string.Join(", ", classIndices.shape)}].", nameof(classIndices));
        using var cpu = classIndices.detach().to(ScalarType.Int64, CPU).contiguous();
        ReadOnlySpan<long> indices = MemoryMarshal.Cast<byte, long>(cpu.bytes);
        for (int r = 0; r < rowCount; r++)
        {
            long index = indices[r];
            if (index < 0 || index >= KeyCount)
                throw new ArgumentOutOfRangeException(nameof(classIndices), index, $"Column '{Name}' has {KeyCount} key values; class index must lie in [0, {KeyCount}).");
            Keys[r] = (uint)(index + 1);
        }
    }

    private void CheckRowCount(int rowCount)
    {
        if (rowCount < 0 || rowCount > Capacity)
            throw new ArgumentOutOfRangeException(nameof(rowCount), rowCount, $"Column '{Name}' holds at most {Capacity} rows.");
    }
}
