namespace Microsoft.ML.Masking.Core.Batching;

/// <summary>Checks the batch reader applies to every value of a float column as it reads a row.</summary>
[Flags]
internal enum BatchValueRules
{
    /// <summary>No check.</summary>
    None = 0,

    /// <summary>Every value is a finite number (no NaN, no infinity).</summary>
    Finite = 1,

    /// <summary>Every value is 0 or 1 (masks).</summary>
    Binary = 2,

    /// <summary>Every value is a non-negative whole number (segment ids).</summary>
    WholeNonNegative = 4,
}
