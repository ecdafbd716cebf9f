namespace Microsoft.ML.Masking.Attribution;

/// <summary>Which class each row is explained for.</summary>
public enum AttributionTargetKind
{
    /// <summary>The class the model predicts for the whole image (the arg-max of its scores).</summary>
    PredictedClass,

    /// <summary>A fixed class, the same for every row.</summary>
    FixedClass,
}

/// <summary>The class explained: the predicted class (the default) or a fixed class.</summary>
public sealed record AttributionTarget
{
    /// <summary>The kind of target.</summary>
    public AttributionTargetKind Kind { get; init; }

    /// <summary>The 0-based class for <see cref="AttributionTargetKind.FixedClass"/>.</summary>
    public int ClassIndex { get; init; }

    /// <summary>Explain the predicted class of each row.</summary>
    public static AttributionTarget PredictedClass { get; } = new() { Kind = AttributionTargetKind.PredictedClass };

    /// <summary>Explain class <paramref name="classIndex"/> (0-based) for every row; checked against the model's classes when fitting.</summary>
    public static AttributionTarget FixedClass(int classIndex) => new() { Kind = AttributionTargetKind.FixedClass, ClassIndex = classIndex };

    /// <inheritdoc/>
    public override string ToString() => Kind == AttributionTargetKind.PredictedClass ? "the predicted class" : $"class {ClassIndex}";
}
