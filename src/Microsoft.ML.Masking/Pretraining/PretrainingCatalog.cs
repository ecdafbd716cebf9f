using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.Pretraining;

namespace Microsoft.ML;

/// <summary>Masked-autoencoder pre-training on ML.NET's transforms catalog.</summary>
public static class PretrainingCatalog
{
    /// <summary>
    /// An estimator that pre-trains a masked autoencoder (random or adversarial masking) on an image column and
    /// yields a transformer adding an embedding column. See <see cref="MaskedAutoencoderPretrainer.Options"/> for every setting.
    /// </summary>
    /// <param name="catalog">The transforms catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="options">The options.</param>
    public static MaskedAutoencoderPretrainer PretrainMaskedAutoencoder(this TransformsCatalog catalog, MaskedAutoencoderPretrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new MaskedAutoencoderPretrainer(CatalogEnvironment.Of(catalog), options);
    }

    /// <summary>An estimator that pre-trains a masked autoencoder with the default network and adversarial masking.</summary>
    /// <param name="catalog">The transforms catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="imageColumnName">Planar float image column.</param>
    /// <param name="embeddingColumnName">Output embedding column.</param>
    /// <param name="masking">Random or adversarial masking.</param>
    /// <param name="epochs">Passes over the data.</param>
    /// <param name="seed">Seed of the weights, shuffles and masks.</param>
    public static MaskedAutoencoderPretrainer PretrainMaskedAutoencoder(this TransformsCatalog catalog, string imageColumnName = "Image",
        string embeddingColumnName = "Embedding", MaskingStrategy masking = MaskingStrategy.Adversarial, int epochs = 10, int seed = 0) =>
        catalog.PretrainMaskedAutoencoder(new MaskedAutoencoderPretrainer.Options
        {
            ImageColumnName = imageColumnName, EmbeddingColumnName = embeddingColumnName, Masking = masking, Epochs = epochs, Seed = seed,
        });
}
