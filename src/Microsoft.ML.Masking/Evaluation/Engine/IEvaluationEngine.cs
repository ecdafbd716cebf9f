namespace Microsoft.ML.Masking.Evaluation.Engine;

/// <summary>An evaluator's accumulating core: fed batch after batch, then asked for its result.</summary>
internal interface IEvaluationEngine<out TResult>
{
    /// <summary>Scores one batch and adds it to the running totals.</summary>
    void Add(EvaluationBatch batch);

    /// <summary>The result over every batch added so far.</summary>
    TResult Result();
}
