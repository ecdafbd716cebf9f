using System.Text.Json;
using System.Text.Json.Serialization;

namespace Microsoft.ML.Masking.Core.Persistence;

/// <summary>JSON settings of the headers stored in model files: indented, enums as names, stable across versions.</summary>
internal static class ModelJson
{
    /// <summary>The shared options (read-only once used).</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };
}
