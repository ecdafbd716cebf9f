using Microsoft.ML.Data;
using Microsoft.ML.Masking.Tests.TestDoubles;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Core.Batching;

[TestClass]
public sealed class BatchingTests
{
    /// <summary>Scores of one row computed directly with the transformer's layer, one row at a time.</summary>
    private static float[] ReferenceScores(LinearTestTransformer transformer, float[] features)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = tensor(features, [1, features.Length]);
        return transformer.Linear.forward(x).data<float>().ToArray();
    }

    [TestMethod]
    [DataRow(10, 4, 3)]
    [DataRow(8, 4, 2)]
    [DataRow(3, 16, 1)]
    [DataRow(5, 1, 5)]
    public void KernelRunsOncePerBatchAndScoresMatchRowByRow(int rows, int batchSize, int expectedBatches)
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Rows(rows);
        var transformer = TestData.Transformer(ml, batchSize);

        var output = transformer.Transform(ml.Data.LoadFromEnumerable(data));
        var scores = TestData.Vectors(output, LinearTestTransformer.ScoreColumn);

        Assert.AreEqual(expectedBatches, transformer.BatchesRun);
        var expectedRowCounts = Enumerable.Range(0, expectedBatches).Select(b => Math.Min(batchSize, rows - b * batchSize)).ToList();
        CollectionAssert.AreEqual(expectedRowCounts, transformer.BatchRowCounts);
        Assert.HasCount(rows, scores);
        for (int i = 0; i < rows; i++)
            FloatAssert.AreClose(ReferenceScores(transformer, data[i].Features), scores[i], 1e-5, $"row {i}: in a batch of {batchSize} against alone, equal up to rounding");
    }

    [TestMethod]
    public void KeyAndScalarOutputsAgreeWithScores()
    {
        var ml = new MLContext(seed: 1);
        var transformer = TestData.Transformer(ml, batchSize: 4);
        var output = transformer.Transform(ml.Data.LoadFromEnumerable(TestData.Rows(9)));

        var scores = TestData.Vectors(output, LinearTestTransformer.ScoreColumn);
        var labels = TestData.Column<uint>(output, LinearTestTransformer.PredictedLabelColumn);
        var maxima = TestData.Column<float>(output, LinearTestTransformer.MaxScoreColumn);

        for (int i = 0; i < scores.Count; i++)
        {
            int argmax = Array.IndexOf(scores[i], scores[i].Max());
            Assert.AreEqual((uint)(argmax + 1), labels[i], $"row {i}: keys are 1-based");
            Assert.AreEqual(scores[i].Max(), maxima[i], $"row {i}");
        }
    }

    [TestMethod]
    public void PassThroughColumnsStayOnTheirRow()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Rows(11);
        var transformer = TestData.Transformer(ml, batchSize: 4);
        var output = transformer.Transform(ml.Data.LoadFromEnumerable(data));

        // Read outputs and pass-through columns from the same cursor, so a leader running ahead would show.
        var id = output.Schema["Id"];
        var text = output.Schema["Text"];
        var score = output.Schema[LinearTestTransformer.ScoreColumn];
        using var cursor = output.GetRowCursor([id, text, score]);
        var getId = cursor.GetGetter<int>(id);
        var getText = cursor.GetGetter<ReadOnlyMemory<char>>(text);
        var getScore = cursor.GetGetter<VBuffer<float>>(score);
        int row = 0, idValue = 0;
        ReadOnlyMemory<char> textValue = default;
        VBuffer<float> scoreValue = default;
        while (cursor.MoveNext())
        {
            getScore(ref scoreValue);
            getId(ref idValue);
            getText(ref textValue);
            Assert.AreEqual(row, cursor.Position);
            Assert.AreEqual(data[row].Id, idValue);
            Assert.AreEqual(data[row].Text, textValue.ToString());
            FloatAssert.AreClose(ReferenceScores(transformer, data[row].Features), scoreValue.DenseValues().ToArray(), 1e-5, $"row {row}: in its batch against alone");
            row++;
        }
        Assert.AreEqual(data.Length, row);
    }

    [TestMethod]
    public void NothingRunsBeforeACursorReadsAnOutput()
    {
        var ml = new MLContext(seed: 1);
        var transformer = TestData.Transformer(ml, batchSize: 4);
        var output = transformer.Transform(ml.Data.LoadFromEnumerable(TestData.Rows(10)));
        Assert.AreEqual(0, transformer.BatchesRun, "Transform must be lazy");
        Assert.AreEqual(10L, output.GetRowCount());

        var score = output.Schema[LinearTestTransformer.ScoreColumn];
        using (var cursor = output.GetRowCursor([score]))
        {
            Assert.AreEqual(0, transformer.BatchesRun, "creating a cursor must not run the network");
            Assert.IsTrue(cursor.MoveNext());
            Assert.AreEqual(0, transformer.BatchesRun, "moving without reading an output must not run the network");
            VBuffer<float> value = default;
            cursor.GetGetter<VBuffer<float>>(score)(ref value);
            Assert.AreEqual(1, transformer.BatchesRun);
        }
    }

    [TestMethod]
    public void OnlyRequestedOutputsAreActive()
    {
        var ml = new MLContext(seed: 1);
        var transformer = TestData.Transformer(ml, batchSize: 4);
        var output = transformer.Transform(ml.Data.LoadFromEnumerable(TestData.Rows(10)));

        var ids = TestData.Column<int>(output, "Id");
        CollectionAssert.AreEqual(Enumerable.Range(0, 10).ToList(), ids);
        Assert.AreEqual(0, transformer.BatchesRun, "reading only pass-through columns must not run the network");

        using var cursor = output.GetRowCursor([output.Schema[LinearTestTransformer.MaxScoreColumn]]);
        Assert.IsTrue(cursor.IsColumnActive(output.Schema[LinearTestTransformer.MaxScoreColumn]));
        Assert.IsFalse(cursor.IsColumnActive(output.Schema[LinearTestTransformer.ScoreColumn]));
        Assert.IsFalse(cursor.IsColumnActive(output.Schema["Id"]));
        Assert.Throws<InvalidOperationException>(() => cursor.GetGetter<VBuffer<float>>(output.Schema[LinearTestTransformer.ScoreColumn]));
    }

    [TestMethod]
    public void OutputSchemaHasTypesAndAnnotations()
    {
        var ml = new MLContext(seed: 1);
        var schema = TestData.Transformer(ml, 4).GetOutputSchema(ml.Data.LoadFromEnumerable(TestData.Rows(1)).Schema);

        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 3), schema[LinearTestTransformer.ScoreColumn].Type);
        Assert.AreEqual(NumberDataViewType.Single, schema[LinearTestTransformer.MaxScoreColumn].Type);
        Assert.AreEqual(new KeyDataViewType(typeof(uint), 3), schema[LinearTestTransformer.PredictedLabelColumn].Type);

        VBuffer<ReadOnlyMemory<char>> names = default;
        schema[LinearTestTransformer.ScoreColumn].GetSlotNames(ref names);
        CollectionAssert.AreEqual(TestData.Classes, names.DenseValues().Select(n => n.ToString()).ToArray());
        schema[LinearTestTransformer.PredictedLabelColumn].GetKeyValues(ref names);
        CollectionAssert.AreEqual(TestData.Classes, names.DenseValues().Select(n => n.ToString()).ToArray());
    }

    [TestMethod]
    public void MissingInputColumnIsNamed()
    {
        var ml = new MLContext(seed: 1);
        var transformer = new LinearTestTransformer(ml, "Pixels", TestData.FeatureSize, TestData.Classes, 4, seed: 1);
        var data = ml.Data.LoadFromEnumerable(TestData.Rows(2));

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => transformer.Transform(data));
        StringAssert.Contains(error.Message, "Could not find input column 'Pixels'");
    }

    [TestMethod]
    public void WrongSizeOrTypeIsNamedWithExpectedAndActualTypes()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(TestData.Rows(2));

        var wrongSize = new LinearTestTransformer(ml, "Features", 5, TestData.Classes, 4, seed: 1);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => wrongSize.GetOutputSchema(data.Schema));
        StringAssert.Contains(error.Message, "Schema mismatch for input column 'Features': expected known-size vector of Single of size 5, got Vector<Single, 6>");

        var wrongType = new LinearTestTransformer(ml, "Id", 1, TestData.Classes, 4, seed: 1);
        error = Assert.Throws<ArgumentOutOfRangeException>(() => wrongType.Transform(data));
        StringAssert.Contains(error.Message, "Schema mismatch for input column 'Id': expected known-size vector of Single of size 1, got Int32");
    }

    [TestMethod]
    public void PredictionEngineMapsOneRowAtATime()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Rows(5);
        var transformer = TestData.Transformer(ml, batchSize: 4);
        using var engine = ml.Model.CreatePredictionEngine<TestData.Row, TestData.Prediction>(transformer, ml.Data.LoadFromEnumerable(data).Schema);

        foreach (var row in data)
        {
            var prediction = engine.Predict(row);
            Assert.AreEqual(row.Id, prediction.Id);
            FloatAssert.AreClose(ReferenceScores(transformer, row.Features), prediction.Score, 1e-5, $"row {row.Id}: the engine's kernel call against the layer called here");
            // The key and the maximum come from the same kernel call as the scores: exactly their arg-max and max.
            Assert.AreEqual((uint)(Array.IndexOf(prediction.Score, prediction.Score.Max()) + 1), prediction.PredictedLabel);
            Assert.AreEqual(prediction.Score.Max(), prediction.MaxScore);
        }
        Assert.AreEqual(data.Length, transformer.BatchesRun, "one kernel call per prediction, shared by the three outputs");
    }

    [TestMethod]
    public void WorksInsideAnEstimatorChain()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(TestData.Rows(7));
        var transformer = TestData.Transformer(ml, batchSize: 3);
        var pipeline = ml.Transforms.NormalizeMinMax("Features")
            .Append(new TransformerEstimatorAdapter(transformer))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedName", LinearTestTransformer.PredictedLabelColumn));
        var model = pipeline.Fit(data);

        var names = TestData.Column<ReadOnlyMemory<char>>(model.Transform(data), "PredictedName").Select(n => n.ToString()).ToList();
        Assert.HasCount(7, names);
        Assert.IsTrue(names.All(TestData.Classes.Contains), string.Join(",", names));
    }

    [TestMethod]
    public void MinimalTransformerFromTheDocsScalesAndRoundTrips()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Rows(5);
        var view = ml.Data.LoadFromEnumerable(data);
        var transformer = new ScaleTestTransformer(ml, new("Features", "Scaled", TestData.FeatureSize, Factor: 2.5f, BatchSize: 2));

        var scaled = TestData.Vectors(transformer.Transform(view), "Scaled");
        for (int i = 0; i < data.Length; i++)
            CollectionAssert.AreEqual(data[i].Features.Select(v => v * 2.5f).ToArray(), scaled[i]);

        using var stream = new MemoryStream();
        ml.Model.Save(transformer, view.Schema, stream);
        stream.Position = 0;
        var loaded = new MLContext(seed: 2).Model.Load(stream, out _);
        CollectionAssert.AreEqual(scaled.SelectMany(v => v).ToArray(), TestData.Vectors(loaded.Transform(view), "Scaled").SelectMany(v => v).ToArray());
    }
}
