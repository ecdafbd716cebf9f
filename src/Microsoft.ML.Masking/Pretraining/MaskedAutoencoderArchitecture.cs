using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.Masking.Core.Persistence;

namespace Microsoft.ML.Masking.Pretraining;

/// <summary>
/// The sizes of a ViT masked autoencoder (He et al. 2022, "Masked Autoencoders Are Scalable Vision Learners"):
/// the image it reads, the patch size, the encoder and the lighter decoder. The defaults suit 28–64 px images on a
/// few CPU cores: 4 px patches, a 6-block encoder of width 128 and a 2-block decoder of width 64.
/// </summary>
public sealed record MaskedAutoencoderArchitecture
{
    /// <summary>Colour planes of the input images (1 grey, 3 RGB). Default: 1.</summary>
    public int Channels { get; init; } = 1;

    /// <summary>Image height in pixels; a multiple of <see cref="PatchSize"/>. Default: 28.</summary>
    public int ImageHeight { get; init; } = 28;

    /// <summary>Image width in pixels; a multiple of <see cref="PatchSize"/>. Default: 28.</summary>
    public int ImageWidth { get; init; } = 28;

    /// <summary>Side of the square patches, in pixels. Default: 4.</summary>
    public int PatchSize { get; init; } = 4;

    /// <summary>Token width of the encoder; a multiple of 4 (the 2-D sine–cosine embedding) and of <see cref="EncoderHeads"/>. Default: 128.</summary>
    public int EncoderWidth { get; init; } = 128;

    /// <summary>Transformer blocks of the encoder. Default: 6.</summary>
    public int EncoderDepth { get; init; } = 6;

    /// <summary>Attention heads of the encoder. Default: 4.</summary>
    public int EncoderHeads { get; init; } = 4;

    /// <summary>Token width of the decoder; a multiple of 4 and of <see cref="DecoderHeads"/>. Default: 64.</summary>
    public int DecoderWidth { get; init; } = 64;

    /// <summary>Transformer blocks of the decoder. Default: 2.</summary>
    public int DecoderDepth { get; init; } = 2;

    /// <summary>Attention heads of the decoder. Default: 4.</summary>
    public int DecoderHeads { get; init; } = 4;

    /// <summary>Hidden width of each block's MLP as a multiple of the token width. Default: 4.</summary>
    public int MlpRatio { get; init; } = 4;

    /// <summary>Patches along the height.</summary>
    [JsonIgnore]
    public int PatchRows => ImageHeight / PatchSize;

    /// <summary>Patches along the width.</summary>
    [JsonIgnore]
    public int PatchColumns => ImageWidth / PatchSize;

    /// <summary>Patches per image (tokens besides the CLS token).</summary>
    [JsonIgnore]
    public int PatchCount => PatchRows * PatchColumns;

    /// <summary>Values of one patch: patch size² × channels.</summary>
    [JsonIgnore]
    public int PatchValues => PatchSize * PatchSize * Channels;

    /// <summary>Checks every size; the message names the property.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive or does not fit the others.</exception>
    public void Validate()
    {
        Positive(Channels, nameof(Channels));
        Positive(ImageHeight, nameof(ImageHeight));
        Positive(ImageWidth, nameof(ImageWidth));
        Positive(PatchSize, nameof(PatchSize));
        Positive(EncoderDepth, nameof(EncoderDepth));
        Positive(DecoderDepth, nameof(DecoderDepth));
        Positive(MlpRatio, nameof(MlpRatio));
        if (ImageHeight % PatchSize != 0 || ImageWidth % PatchSize != 0)
            throw new ArgumentOutOfRangeException(nameof(PatchSize), PatchSize,
                $"The image size {ImageHeight}×{ImageWidth} is not a multiple of the patch size {PatchSize}; resize the images or choose a patch size that divides both sides.");
        if (PatchCount < 2)
            throw new ArgumentOutOfRangeException(nameof(PatchSize), PatchSize, "The images hold fewer than 2 patches; masking needs at least 2.");
        Width(EncoderWidth, EncoderHeads, nameof(EncoderWidth), nameof(EncoderHeads));
        Width(DecoderWidth, DecoderHeads, nameof(DecoderWidth), nameof(DecoderHeads));
    }

    /// <summary>The architecture as JSON (for checkpoint fingerprints and model headers).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ModelJson.Options);

    private static void Positive(int value, string name)
    {
        if (value < 1)
            throw new ArgumentOutOfRangeException(name, value, $"{nameof(MaskedAutoencoderArchitecture)}.{name} must be at least 1.");
    }

    private static void Width(int width, int heads, string widthName, string headsName)
    {
        Positive(heads, headsName);
        if (width < 4 || width % 4 != 0)
            throw new ArgumentOutOfRangeException(widthName, width,
                $"{nameof(MaskedAutoencoderArchitecture)}.{widthName} must be a positive multiple of 4 (the 2-D sine–cosine positional embedding splits it in four).");
        if (width % heads != 0)
            throw new ArgumentOutOfRangeException(headsName, heads,
                $"{nameof(MaskedAutoencoderArchitecture)}.{headsName} ({heads}) must divide {widthName} ({width}).");
    }
}
