namespace Microsoft.ML.Masking.Core.Persistence;

/// <summary>
/// How <see cref="ModuleWeights"/> matches the keys of a weights file with a module's keys when they are not the
/// same set: a backbone loaded without its head, a file saved from a wrapper (<c>module.</c>, <c>backbone.</c>), or a
/// user's own renaming. The defaults are strict: every module key must come from the file, every file key must be
/// used, and nothing is renamed. Whatever the options, a tensor whose shape or element type differs is an error
/// unless its key is skipped.
/// </summary>
/// <remarks>
/// A file key is turned into a module key in this order: <see cref="StripPrefix"/> is removed (where present),
/// then <see cref="AddPrefix"/> is prepended, then <see cref="KeyMap"/> is applied. <see cref="SkipPrefixes"/> are
/// matched against module keys and against the file keys after that renaming.
/// </remarks>
public sealed class WeightLoadOptions
{
    /// <summary>The strict defaults (what every load without options uses).</summary>
    public static WeightLoadOptions Strict => new();

    /// <summary>
    /// Removed from the start of every file key that starts with it, e.g. <c>"module."</c> for weights saved from
    /// <c>nn.DataParallel</c>, or <c>"backbone."</c> to load a detector's backbone into a plain network. Default: null.
    /// </summary>
    public string? StripPrefix { get; set; }

    /// <summary>
    /// Prepended to every file key, e.g. <c>"encoder."</c> to load a plain network's weights into a module that holds
    /// it as <c>encoder</c>. Default: null.
    /// </summary>
    public string? AddPrefix { get; set; }

    /// <summary>
    /// A user renaming, applied last: returns the module key for a file key, or null to ignore the file key.
    /// Default: null (no renaming).
    /// </summary>
    public Func<string, string?>? KeyMap { get; set; }

    /// <summary>
    /// Key prefixes left out of the load on both sides: module keys that start with one keep their current values
    /// (e.g. a freshly initialised head) and file keys that start with one are ignored, whatever their shape.
    /// For a torchvision ResNet without its 1000-class head: <c>["fc."]</c>. A prefix that matches nothing on
    /// either side is an error, so a misspelling is not silent. Default: empty.
    /// </summary>
    public IReadOnlyList<string> SkipPrefixes { get; set; } = [];

    /// <summary>
    /// When true, module keys the file does not provide keep their current values instead of failing the load.
    /// Default: false.
    /// </summary>
    public bool AllowMissingKeys { get; set; }

    /// <summary>When true, file keys the module does not have are ignored instead of failing the load. Default: false.</summary>
    public bool AllowUnexpectedKeys { get; set; }

    /// <summary>Whether this is the strict default: no renaming, nothing skipped, nothing allowed to be missing or extra.</summary>
    public bool IsStrict => string.IsNullOrEmpty(StripPrefix) && string.IsNullOrEmpty(AddPrefix) && KeyMap is null
        && SkipPrefixes.Count == 0 && !AllowMissingKeys && !AllowUnexpectedKeys;

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(SkipPrefixes, nameof(SkipPrefixes));
        for (int i = 0; i < SkipPrefixes.Count; i++)
            if (string.IsNullOrEmpty(SkipPrefixes[i]))
                throw new ArgumentException($"{nameof(SkipPrefixes)}[{i}] is empty; an empty prefix would skip every key.", nameof(SkipPrefixes));
    }

    /// <summary>The module key for <paramref name="fileKey"/>, or null when <see cref="KeyMap"/> drops it.</summary>
    internal string? MapKey(string fileKey)
    {
        string key = fileKey;
        if (!string.IsNullOrEmpty(StripPrefix) && key.StartsWith(StripPrefix, StringComparison.Ordinal))
            key = key[StripPrefix.Length..];
        if (!string.IsNullOrEmpty(AddPrefix))
            key = AddPrefix + key;
        return KeyMap is null ? key : KeyMap(key);
    }

    internal bool IsSkipped(string key)
    {
        foreach (string prefix in SkipPrefixes)
            if (key.StartsWith(prefix, StringComparison.Ordinal))
                return true;
        return false;
    }
}
