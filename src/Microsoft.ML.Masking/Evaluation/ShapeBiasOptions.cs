namespace Microsoft.ML.Masking.Evaluation;

/// <summary>Settings of <see cref="MaskingEvaluationCatalog.EvaluateShapeBias"/>. Every property documents its default.</summary>
public sealed class ShapeBiasOptions : MaskingEvaluationOptions
{
    /// <summary>Ground-truth object mask column: height × width floats, 1 on the object and 0 elsewhere. Default: "ObjectMask".</summary>
    public string ObjectMaskColumnName { get; set; } = "ObjectMask";

    internal override void Validate()
    {
        base.Validate();
        ArgumentException.ThrowIfNullOrWhiteSpace(ObjectMaskColumnName, nameof(ObjectMaskColumnName));
    }
}
