namespace Microsoft.ML.Masking.Core.Persistence;

/// <summary>
/// What a weights load did: which module keys were filled, which kept their values, which file keys were not used
/// and which were renamed. A strict load fills every key and reports nothing else.
/// </summary>
public sealed class WeightLoadReport
{
    internal WeightLoadReport(string source, IReadOnlyList<string> loaded, IReadOnlyList<string> skippedModuleKeys,
        IReadOnlyList<string> missingModuleKeys, IReadOnlyList<string> ignoredFileKeys, IReadOnlyList<KeyValuePair<string, string>> renamed)
    {
        Source = source;
        LoadedKeys = loaded;
        SkippedModuleKeys = skippedModuleKeys;
        MissingModuleKeys = missingModuleKeys;
        IgnoredFileKeys = ignoredFileKeys;
        RenamedKeys = renamed;
    }

    /// <summary>The file or stream the weights came from.</summary>
    public string Source { get; }

    /// <summary>Module keys filled from the file, in the module's order.</summary>
    public IReadOnlyList<string> LoadedKeys { get; }

    /// <summary>Module keys left as they were because they match <see cref="WeightLoadOptions.SkipPrefixes"/>.</summary>
    public IReadOnlyList<string> SkippedModuleKeys { get; }

    /// <summary>Module keys left as they were because the file lacks them (<see cref="WeightLoadOptions.AllowMissingKeys"/>).</summary>
    public IReadOnlyList<string> MissingModuleKeys { get; }

    /// <summary>
    /// File keys (as written in the file) that were not loaded: skipped by prefix, dropped by the key map, or absent
    /// from the module (<see cref="WeightLoadOptions.AllowUnexpectedKeys"/>). Sorted ordinally.
    /// </summary>
    public IReadOnlyList<string> IgnoredFileKeys { get; }

    /// <summary>Loaded keys whose name changed: file key → module key, in the module's order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> RenamedKeys { get; }

    /// <summary>True when every module key was filled from the file and every file key was used.</summary>
    public bool IsComplete => SkippedModuleKeys.Count == 0 && MissingModuleKeys.Count == 0 && IgnoredFileKeys.Count == 0;

    /// <summary>One line, e.g. "'resnet18.pth': 120 keys loaded (120 renamed), 2 module keys skipped (fc.weight, fc.bias), 2 file keys ignored (fc.weight, fc.bias)."</summary>
    public override string ToString()
    {
        var text = new System.Text.StringBuilder($"'{Source}': {LoadedKeys.Count} key(s) loaded");
        if (RenamedKeys.Count > 0) text.Append($" ({RenamedKeys.Count} renamed)");
        Append(text, "module key(s) skipped", SkippedModuleKeys);
        Append(text, "module key(s) missing from the file, left as they were", MissingModuleKeys);
        Append(text, "file key(s) ignored", IgnoredFileKeys);
        return text.Append('.').ToString();
    }

    private static void Append(System.Text.StringBuilder text, string title, IReadOnlyList<string> keys)
    {
        const int listed = 10;
        if (keys.Count == 0) return;
        text.Append($", {keys.Count} {title} ({string.Join(", ", keys.Take(listed))}{(keys.Count > listed ? ", …" : "")})");
    }
}
