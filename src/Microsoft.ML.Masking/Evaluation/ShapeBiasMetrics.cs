using Microsoft.ML.Masking.LayerMasking;

namespace Microsoft.ML.Masking.Evaluation;

/// <summary>
/// Mask-shape bias of one masking method, on the images the network classifies correctly when whole: accuracy
/// with the object removed, and with the same number of pixels removed in a broken shape (the object mask rolled
/// by half the image in both axes). With the object gone nothing of the class is left to see, so a masking free
/// of shape bias falls towards chance there while the broken mask, which leaves parts of the object, keeps
/// accuracy; a masking whose paint draws the object's silhouette scores higher on the object mask.
/// </summary>
public sealed class ShapeBiasMetrics
{
    internal ShapeBiasMetrics(MaskingMethod method, double objectRemovedAccuracy, double objectRemovedStandardError,
        double brokenShapeAccuracy, double brokenShapeStandardError)
    {
        Method = method;
        ObjectRemovedAccuracy = objectRemovedAccuracy;
        ObjectRemovedStandardError = objectRemovedStandardError;
        BrokenShapeAccuracy = brokenShapeAccuracy;
        BrokenShapeStandardError = brokenShapeStandardError;
    }

    /// <summary>The masking method.</summary>
    public MaskingMethod Method { get; }

    /// <summary>Accuracy with the object's pixels removed (lower = less of the shape leaks through the mask).</summary>
    public double ObjectRemovedAccuracy { get; }

    /// <summary>Standard error of <see cref="ObjectRemovedAccuracy"/>; NaN below two images.</summary>
    public double ObjectRemovedStandardError { get; }

    /// <summary>Accuracy with the rolled (broken) object mask removed.</summary>
    public double BrokenShapeAccuracy { get; }

    /// <summary>Standard error of <see cref="BrokenShapeAccuracy"/>; NaN below two images.</summary>
    public double BrokenShapeStandardError { get; }
}
