using System.Runtime.CompilerServices;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Masking.Internal;

/// <summary>
/// The host environment behind an ML.NET catalog (<c>mlContext.Transforms</c>, trainers catalogs). ML.NET's own
/// catalog extensions get it through the internal <c>CatalogUtils</c>; there is no public route.
/// </summary>
internal static class CatalogEnvironment
{
    /// <summary>
    /// The environment of <paramref name="catalog"/>. Every catalog extension of the library starts here, so this is
    /// also where a mismatched ML.NET release is first reported (<see cref="MLNetVersionGuard"/>).
    /// </summary>
    /// <exception cref="NotSupportedException">The process runs an ML.NET release this build was not tested with.</exception>
    public static IHostEnvironment Of(IInternalCatalog catalog)
    {
        MLNetVersionGuard.EnsureSupported();
        return EnvironmentOf(catalog);
    }

    // Apart from Of so that the version guard runs before the JIT resolves the internal CatalogUtils.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static IHostEnvironment EnvironmentOf(IInternalCatalog catalog) => CatalogUtils.GetEnvironment(catalog);
}
