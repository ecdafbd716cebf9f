using Microsoft.ML.Masking.LayerMasking;

namespace Microsoft.ML.Masking.Evaluation;

/// <summary>The lookup by masking method that every evaluation result offers.</summary>
internal static class EvaluatedMethods
{
    /// <summary>The entry of <paramref name="items"/> for <paramref name="method"/>.</summary>
    /// <exception cref="KeyNotFoundException">The method was not evaluated; the message lists those that were.</exception>
    public static T Find<T>(IReadOnlyList<T> items, MaskingMethod method, Func<T, MaskingMethod?> methodOf) where T : class =>
        items.FirstOrDefault(item => methodOf(item) == method)
        ?? throw new KeyNotFoundException(
            $"{method} was not evaluated; the result has {string.Join(", ", items.Select(methodOf).OfType<MaskingMethod>())}.");
}
