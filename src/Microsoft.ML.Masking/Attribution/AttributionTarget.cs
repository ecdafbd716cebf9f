namespace Microsoft.ML.Masking.Attribution;

/// <summary>Which class each row is explained for.</summary>
public enum AttributionTargetKind
{
    /// <summary>The class the model predicts for the whole image (the arg-max of its scores).</summary>
    PredictedClass,

    /// <summary>A fixed class, the same for every row.</summary>
    FixedClass,

    /// <summary>Each row's label, read from a label column (a key, or a 0-based class number).</summary>
    Label,
}

/// <summary>The class explained: the predicted class (the default), each row's label, or a fixed class.</summary>
public sealed record AttributionTarget
{
    /// <summary>The kind of target.</summary>
    public AttributionTargetKind Kind { get; init; }

    /// <summary>The 0-based class for <see cref="AttributionTargetKind.FixedClass"/>.</summary>
    public int ClassIndex { get; init; }

    /// <summary>The label column for <see cref="AttributionTargetKind.Label"/>; null for the other kinds.</summary>
    public string? LabelColumnName { get; init; }

    /// <summary>Explain the predicted class of each row.</summary>
    public static AttributionTarget PredictedClass { get; } = new() { Kind = AttributionTargetKind.PredictedClass };

    /// <summary>Explain class <paramref name="classIndex"/> (0-based) for every row; checked against the model's classes when fitting.</summary>
    public static AttributionTarget FixedClass(int classIndex) => new() { Kind = AttributionTargetKind.FixedClass, ClassIndex = classIndex };

    /// <summary>
    /// Explain each row's label, read from <paramref name="labelColumnName"/>: a key with one value per class (when its
    /// key values and the classifier's class names both exist they are matched by name), or a whole 0-based class
    /// number (Single, Double, Int32, UInt32, Int64). Checked when fitting; a missing label (key 0) is an error naming the row.
    /// </summary>
    /// <param name="labelColumnName">The label column. Default: "Label".</param>
    public static AttributionTarget Label(string labelColumnName = "Label") => new() { Kind = AttributionTargetKind.Label, LabelColumnName = labelColumnName };

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        AttributionTargetKind.PredictedClass => "the predicted class",
        AttributionTargetKind.Label => $"the label in column '{LabelColumnName}'",
        _ => $"class {ClassIndex}",
    };
}
