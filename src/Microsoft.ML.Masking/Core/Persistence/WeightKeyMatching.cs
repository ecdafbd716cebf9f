using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core.Persistence;

/// <summary>
/// Pairs the tensors of a weights file with a module's tensors as <see cref="WeightLoadOptions"/> say, and fails with
/// a <see cref="StateDictMismatchException"/> for anything the options do not allow.
/// </summary>
internal static class WeightKeyMatching
{
    /// <summary>The copies to make (module tensor ← file tensor) and the report of the load.</summary>
    public sealed record Plan(IReadOnlyList<(Tensor Target, Tensor Source)> Copies, WeightLoadReport Report);

    public static Plan Match(IReadOnlyDictionary<string, Tensor> module, IReadOnlyDictionary<string, Tensor> file,
        string source, WeightLoadOptions options)
    {
        var skipUsed = new bool[options.SkipPrefixes.Count];
        var ignored = new List<string>();
        var renamed = new Dictionary<string, (string FileKey, Tensor Tensor)>(StringComparer.Ordinal);
        foreach (var (fileKey, tensor) in file)
        {
            string? key = options.MapKey(fileKey);
            if (key is null || MarkSkipped(options, key, skipUsed))
            {
                ignored.Add(fileKey);
                continue;
            }
            if (renamed.TryGetValue(key, out var earlier))
                throw new InvalidDataException(
                    $"The weights in '{source}' have two keys for module key '{key}': '{earlier.FileKey}' and '{fileKey}'. Check {nameof(WeightLoadOptions.StripPrefix)}, {nameof(WeightLoadOptions.AddPrefix)} and {nameof(WeightLoadOptions.KeyMap)}.");
            renamed.Add(key, (fileKey, tensor));
        }

        var skipped = new List<string>();
        var missing = new List<string>();
        var compared = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, target) in module)
        {
            if (MarkSkipped(options, key, skipUsed))
                skipped.Add(key);
            else if (options.AllowMissingKeys && !renamed.ContainsKey(key))
                missing.Add(key);
            else
                compared.Add(key, target);
        }
        for (int i = 0; i < skipUsed.Length; i++)
            if (!skipUsed[i])
                throw new ArgumentException(
                    $"{nameof(WeightLoadOptions.SkipPrefixes)} holds '{options.SkipPrefixes[i]}', which matches no key of the module or of '{source}'.", nameof(options));

        var offered = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, entry) in renamed)
        {
            if (options.AllowUnexpectedKeys && !module.ContainsKey(key))
                ignored.Add(entry.FileKey);
            else
                offered.Add(key, entry.Tensor);
        }
        var mismatch = StateDictMismatchException.Compare(compared, offered, source, Hint(compared, offered, options));
        if (mismatch is not null)
            throw mismatch;

        var copies = compared.Select(pair => (pair.Value, offered[pair.Key])).ToList();
        var renames = compared.Keys.Where(key => renamed[key].FileKey != key)
            .Select(key => new KeyValuePair<string, string>(renamed[key].FileKey, key)).ToList();
        ignored.Sort(StringComparer.Ordinal);
        return new Plan(copies, new WeightLoadReport(source, compared.Keys.ToList(), skipped, missing, ignored, renames));
    }

    private static bool MarkSkipped(WeightLoadOptions options, string key, bool[] used)
    {
        bool skipped = false;
        for (int i = 0; i < used.Length; i++)
            if (key.StartsWith(options.SkipPrefixes[i], StringComparison.Ordinal))
                used[i] = skipped = true;
        return skipped;
    }

    // A likely fix for the two common mismatches: a wrapper's prefix on every file key, and a head of another size.
    private static string? Hint(IReadOnlyDictionary<string, Tensor> module, IReadOnlyDictionary<string, Tensor> file, WeightLoadOptions options)
    {
        var missing = module.Keys.Where(k => !file.ContainsKey(k)).ToHashSet(StringComparer.Ordinal);
        var unexpected = file.Keys.Where(k => !module.ContainsKey(k)).ToList();
        if (missing.Count > 0 && unexpected.Count > 0)
        {
            string first = unexpected[0];
            int dot = first.IndexOf('.');
            if (dot > 0)
            {
                string prefix = first[..(dot + 1)];
                if (unexpected.All(k => k.StartsWith(prefix, StringComparison.Ordinal)) && unexpected.All(k => missing.Contains(k[prefix.Length..])))
                    return $"Every extra key starts with '{prefix}' and matches a module key without it: set {nameof(WeightLoadOptions)}.{nameof(WeightLoadOptions.StripPrefix)} = \"{prefix}\".";
            }
            foreach (string key in missing)
                if (file.ContainsKey(key[(key.IndexOf('.') + 1)..]) && key.IndexOf('.') > 0)
                    return $"The module's keys carry a prefix the file's lack (e.g. '{key}'): set {nameof(WeightLoadOptions)}.{nameof(WeightLoadOptions.AddPrefix)} = \"{key[..(key.IndexOf('.') + 1)]}\".";
        }
        var mismatched = module.Where(p => file.TryGetValue(p.Key, out var t) && !t.shape.SequenceEqual(p.Value.shape)).ToList();
        // Only the first dimension differs (the class count) under one prefix: most likely a classification head.
        if (missing.Count == 0 && unexpected.Count == 0 && mismatched.Count > 0 && options.SkipPrefixes.Count == 0)
        {
            int dot = mismatched[0].Key.IndexOf('.');
            string prefix = dot > 0 ? mismatched[0].Key[..(dot + 1)] : "";
            bool head = prefix.Length > 0 && mismatched.All(p =>
            {
                var want = p.Value.shape;
                var got = file[p.Key].shape;
                return p.Key.StartsWith(prefix, StringComparison.Ordinal) && want.Length == got.Length && want.Skip(1).SequenceEqual(got.Skip(1));
            });
            if (head)
                return $"Only the first dimension of keys under '{prefix}' differs (a head for another number of classes?): to keep the module's own, set {nameof(WeightLoadOptions)}.{nameof(WeightLoadOptions.SkipPrefixes)} = [\"{prefix}\"].";
        }
        return null;
    }
}
