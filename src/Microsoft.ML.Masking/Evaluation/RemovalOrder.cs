namespace Microsoft.ML.Masking.Evaluation;

/// <summary>Which segments go first as the removed fraction grows. Removal is nested: a larger fraction removes everything a smaller one does.</summary>
public enum RemovalOrder
{
    /// <summary>A random order per image (seeded by the evaluation seed and the row), the same for every masking method.</summary>
    Random,
    /// <summary>Highest mean attribution first (a deletion curve); needs an attribution column.</summary>
    MostRelevantFirst,
    /// <summary>Lowest mean attribution first; needs an attribution column.</summary>
    LeastRelevantFirst,
}
