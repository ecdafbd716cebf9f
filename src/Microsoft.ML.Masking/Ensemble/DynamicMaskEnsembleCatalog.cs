using Microsoft.ML.Masking.Ensemble;
using Microsoft.ML.Masking.Internal;

namespace Microsoft.ML;

/// <summary>The dynamic-mask ensemble trainer on ML.NET's multiclass classification catalog.</summary>
public static class DynamicMaskEnsembleCatalog
{
    /// <summary>
    /// A trainer for an ensemble of TorchSharp ResNets trained one after another with adversarial feature distillation
    /// and learned, input-dependent channel gates, with open-set scores (see <see cref="DynamicMaskEnsembleTrainer.Options"/>).
    /// </summary>
    /// <param name="catalog">The multiclass trainers catalog (<c>mlContext.MulticlassClassification.Trainers</c>).</param>
    /// <param name="options">The options.</param>
    public static DynamicMaskEnsembleTrainer DynamicMaskEnsemble(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        DynamicMaskEnsembleTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new DynamicMaskEnsembleTrainer(CatalogEnvironment.Of(catalog), options);
    }
}
