// ML.NET internals used by this library: see README.md in this folder for why, which ones, and the version pin.
using System.Runtime.CompilerServices;

[assembly: IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: IgnoresAccessChecksTo("Microsoft.ML.Data")]

namespace System.Runtime.CompilerServices;

/// <summary>
/// Tells the runtime to skip visibility checks when this assembly uses non-public members of the named assembly.
/// The runtime recognises the attribute by its full name; the framework does not ship it, so each assembly that
/// needs it declares its own copy. The compiler ignores it: compilation sees the internals through the publicised
/// reference assemblies made by eng/MLNetInternals.targets.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
internal sealed class IgnoresAccessChecksToAttribute : Attribute
{
    /// <summary>Creates the attribute for <paramref name="assemblyName"/> (simple name, no version).</summary>
    public IgnoresAccessChecksToAttribute(string assemblyName) => AssemblyName = assemblyName;

    /// <summary>The simple name of the assembly whose internals are used.</summary>
    public string AssemblyName { get; }
}
