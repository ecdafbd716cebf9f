namespace Microsoft.ML.Masking.LayerMasking;

/// <summary>How removed pixels are taken out of an image before (or while) the network sees it.</summary>
public enum MaskingMethod
{
    /// <summary>Layer masking: the mask travels through the network and removed positions never reach it.</summary>
    LayerMasking,
    /// <summary>Removed pixels set to black (0 in pixel space, i.e. −mean/std after normalisation).</summary>
    Black,
    /// <summary>Removed pixels set to the dataset's mean colour (0 after normalisation).</summary>
    Grey,
    /// <summary>Grey, then a 5×5 Gaussian (σ = 1) of the greyed image pasted back inside the removed region only, softening the mask's edges.</summary>
    GreySmoothed,
    /// <summary>Removed pixels set to the mean colour of the image's kept pixels (the removed ones do not leak in).</summary>
    MeanColor,
    /// <summary>Removed pixels replaced by a Gaussian blur of the original image (σ from the options). Leaks coarse content by design, as in the occlusion literature.</summary>
    Blur,
    /// <summary>Removed pixels replaced by Gaussian noise with the dataset's statistics (N(0,1) after normalisation).</summary>
    Noise,
    /// <summary>Neighbour padding applied to the input only, repeated until the whole hole is filled; the network then runs normally.</summary>
    NeighbourPadding,
}
