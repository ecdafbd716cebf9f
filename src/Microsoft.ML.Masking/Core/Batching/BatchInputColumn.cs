namespace Microsoft.ML.Masking.Core.Batching;

/// <summary>An input column a batched transformer reads: a known-size vector of <see cref="float"/>.</summary>
/// <param name="Name">Column name in the input schema.</param>
/// <param name="Size">Number of values per row (e.g. channels × height × width).</param>
internal sealed record BatchInputColumn(string Name, int Size)
{
    /// <summary>Checks the description itself (not a schema).</summary>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Name);
        if (Size < 1)
            throw new ArgumentOutOfRangeException(nameof(Size), Size, $"Input column '{Name}' needs a positive vector size.");
    }
}
