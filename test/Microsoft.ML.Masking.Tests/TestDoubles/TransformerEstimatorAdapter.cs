using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Internal;

namespace Microsoft.ML.Masking.Tests.TestDoubles;

/// <summary>An estimator whose Fit returns a prepared transformer, to put test transformers into pipelines.</summary>
internal sealed class TransformerEstimatorAdapter(LinearTestTransformer transformer) : IEstimator<LinearTestTransformer>
{
    public LinearTestTransformer Fit(IDataView input)
    {
        transformer.GetOutputSchema(input.Schema);
        return transformer;
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        SchemaChecks.CheckFloatVector(inputSchema, transformer.HeaderValue.InputColumn);
        return SchemaShapeColumns.Append(inputSchema, transformer.Outputs.Select(SchemaShapeColumns.For));
    }
}
