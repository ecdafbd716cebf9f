namespace Microsoft.ML.Masking.Samples;

/// <summary>
/// The options after the sample's name, as <c>--key value</c> pairs and bare <c>--flag</c>s.
/// Small on purpose: each sample reads the few options it documents.
/// </summary>
public sealed class SampleArguments
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _read = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Parses <paramref name="args"/> (everything after the sample name).</summary>
    public SampleArguments(IEnumerable<string> args)
    {
        string? key = null;
        foreach (var a in args)
        {
            if (a.StartsWith("--", StringComparison.Ordinal))
            {
                if (key is not null) _values[key] = null;
                key = a[2..];
            }
            else if (key is not null)
            {
                _values[key] = a;
                key = null;
            }
            else
            {
                throw new ArgumentException($"Unexpected argument '{a}': options look like --name value.");
            }
        }
        if (key is not null) _values[key] = null;
    }

    /// <summary>True when <c>--name</c> was given (with or without a value).</summary>
    public bool Flag(string name) { _read.Add(name); return _values.ContainsKey(name); }

    /// <summary>The value of <c>--name</c>, or <paramref name="fallback"/>.</summary>
    public string String(string name, string fallback)
    {
        _read.Add(name);
        return _values.TryGetValue(name, out var v) && v is not null ? v : fallback;
    }

    /// <summary>The integer value of <c>--name</c>, or <paramref name="fallback"/>.</summary>
    public int Int(string name, int fallback)
    {
        var s = String(name, "");
        if (s.Length == 0) return fallback;
        return int.TryParse(s, out var v) ? v : throw new ArgumentException($"--{name} expects a whole number, got '{s}'.");
    }

    /// <summary>The number value of <c>--name</c> (invariant culture: 2.5, not 2,5), or <paramref name="fallback"/>.</summary>
    public double Double(string name, double fallback)
    {
        var s = String(name, "");
        if (s.Length == 0) return fallback;
        return double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v)
            ? v : throw new ArgumentException($"--{name} expects a number, got '{s}'.");
    }

    /// <summary>The enum value named by <c>--name</c> (case-insensitive), or <paramref name="fallback"/>.</summary>
    public T Enum<T>(string name, T fallback) where T : struct, System.Enum
    {
        var s = String(name, "");
        if (s.Length == 0) return fallback;
        return System.Enum.TryParse<T>(s, ignoreCase: true, out var v) && System.Enum.IsDefined(v)
            ? v : throw new ArgumentException($"--{name} must be one of {string.Join(", ", System.Enum.GetNames<T>())}, not '{s}'.");
    }

    /// <summary>Throws if an option was given that the sample never read (catches typos).</summary>
    public void EnsureAllUsed()
    {
        var unknown = _values.Keys.Where(k => !_read.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"Unknown option(s): {string.Join(", ", unknown.Select(k => "--" + k))}.");
    }
}
