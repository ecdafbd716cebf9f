namespace Microsoft.ML.Masking.Attribution.Metrics;

/// <summary>Which faithfulness curve: what is removed or inserted first.</summary>
public enum AttributionCurveKind
{
    /// <summary>Deletion, most relevant first (MoRF): the target score should fall fast; lower area is better.</summary>
    DeletionMostRelevantFirst,

    /// <summary>Deletion, least relevant first (LeRF): the score should hold; higher area is better.</summary>
    DeletionLeastRelevantFirst,

    /// <summary>Insertion, most relevant first, starting from everything removed: the score should rise fast; higher area is better.</summary>
    InsertionMostRelevantFirst,
}
