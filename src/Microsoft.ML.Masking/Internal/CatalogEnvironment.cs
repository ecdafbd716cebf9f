using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Masking.Internal;

/// <summary>
/// The host environment behind an ML.NET catalog (<c>mlContext.Transforms</c>, trainers catalogs). ML.NET's own
/// catalog extensions get it through the internal <c>CatalogUtils</c>; there is no public route.
/// </summary>
internal static class CatalogEnvironment
{
    /// <summary>The environment of <paramref name="catalog"/>.</summary>
    public static IHostEnvironment Of(IInternalCatalog catalog) => CatalogUtils.GetEnvironment(catalog);
}
