using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.Training;

namespace Microsoft.ML;

/// <summary>The ResNet trainer on ML.NET's multiclass classification catalog.</summary>
public static class ResNetTrainerCatalog
{
    /// <summary>
    /// A trainer for a TorchSharp ResNet image classifier (see <see cref="ResNetTrainer.Options"/> for every setting).
    /// </summary>
    /// <param name="catalog">The multiclass trainers catalog (<c>mlContext.MulticlassClassification.Trainers</c>).</param>
    /// <param name="options">The options.</param>
    public static ResNetTrainer ResNet(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        ResNetTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new ResNetTrainer(CatalogEnvironment.Of(catalog), options);
    }

    /// <summary>
    /// A trainer for a TorchSharp ResNet image classifier with the default network, optimiser and augmentation.
    /// </summary>
    /// <param name="catalog">The multiclass trainers catalog (<c>mlContext.MulticlassClassification.Trainers</c>).</param>
    /// <param name="labelColumnName">Key-typed label column.</param>
    /// <param name="imageColumnName">Planar float image column (square images with 1 or 3 channels; use the options overload otherwise).</param>
    /// <param name="epochs">Passes over the training data.</param>
    /// <param name="batchSize">Images per step.</param>
    /// <param name="seed">Seed of initialisation, shuffling and augmentation.</param>
    public static ResNetTrainer ResNet(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = "Label", string imageColumnName = "Image", int epochs = 10, int batchSize = 128, int seed = 0) =>
        catalog.ResNet(new ResNetTrainer.Options
        {
            LabelColumnName = labelColumnName, ImageColumnName = imageColumnName, Epochs = epochs, BatchSize = batchSize, Seed = seed,
        });
}
