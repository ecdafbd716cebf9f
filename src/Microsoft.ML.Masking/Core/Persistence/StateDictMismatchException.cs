using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core.Persistence;

/// <summary>
/// Weights do not fit a module: keys missing from the file, keys the module does not have, or tensors whose
/// shape or element type differ. The message lists every difference (the first few of each kind).
/// </summary>
public sealed class StateDictMismatchException : InvalidOperationException
{
    private const int ListedPerKind = 20;

    private StateDictMismatchException(string message, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> mismatched)
        : base(message)
    {
        MissingKeys = missing;
        UnexpectedKeys = unexpected;
        MismatchedKeys = mismatched;
    }

    /// <summary>Keys of the module that the weights lack.</summary>
    public IReadOnlyList<string> MissingKeys { get; }

    /// <summary>Keys of the weights that the module lacks.</summary>
    public IReadOnlyList<string> UnexpectedKeys { get; }

    /// <summary>Keys present on both sides whose shape or element type differ, with both descriptions.</summary>
    public IReadOnlyList<string> MismatchedKeys { get; }

    /// <summary>Compares a module's state with loaded state; null when they fit exactly. <paramref name="hint"/>, when given, ends the message.</summary>
    internal static StateDictMismatchException? Compare(IReadOnlyDictionary<string, Tensor> expected, IReadOnlyDictionary<string, Tensor> actual, string source,
        string? hint = null)
    {
        var missing = expected.Keys.Where(k => !actual.ContainsKey(k)).ToList();
        var unexpected = actual.Keys.Where(k => !expected.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var mismatched = new List<string>();
        foreach (var (key, want) in expected)
        {
            if (actual.TryGetValue(key, out var got) && (want.dtype != got.dtype || !want.shape.SequenceEqual(got.shape)))
                mismatched.Add($"{key}: module {Describe(want)}, file {Describe(got)}");
        }
        if (missing.Count == 0 && unexpected.Count == 0 && mismatched.Count == 0)
            return null;
        var message = new System.Text.StringBuilder($"The weights in '{source}' do not fit the module:");
        Append(message, "missing from the weights", missing);
        Append(message, "not in the module", unexpected);
        Append(message, "with another shape or type", mismatched);
        if (hint is not null)
            message.Append(' ').Append(hint);
        return new StateDictMismatchException(message.ToString(), missing, unexpected, mismatched);
    }

    private static string Describe(Tensor t) => $"{t.dtype}[{string.Join(", ", t.shape)}]";

    private static void Append(System.Text.StringBuilder message, string title, List<string> items)
    {
        if (items.Count == 0) return;
        message.Append($" {items.Count} key(s) {title}: ");
        message.Append(string.Join(", ", items.Take(ListedPerKind)));
        if (items.Count > ListedPerKind) message.Append($", … ({items.Count - ListedPerKind} more)");
        message.Append('.');
    }
}
