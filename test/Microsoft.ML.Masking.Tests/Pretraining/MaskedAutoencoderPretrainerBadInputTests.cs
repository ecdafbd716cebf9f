using Microsoft.ML.Data;
using Microsoft.ML.Masking.Pretraining;

namespace Microsoft.ML.Masking.Tests.Pretraining;

[TestClass]
public sealed class MaskedAutoencoderPretrainerBadInputTests
{
    private sealed class OddRow
    {
        [VectorType(9 * 9)]
        public float[] Image { get; set; } = new float[81];
    }

    private static void ThrowsNaming<T>(Action action, params string[] names) where T : Exception
    {
        var e = Assert.ThrowsExactly<T>(action);
        foreach (var name in names)
            StringAssert.Contains(e.Message, name);
    }

    [TestMethod]
    public void ImagesThePatchSizeDoesNotDivideAreRefusedNamingTheColumnAndOption()
    {
        var ml = new MLContext(0);
        var data = ml.Data.LoadFromEnumerable(new[] { new OddRow(), new OddRow() });
        ThrowsNaming<ArgumentOutOfRangeException>(() => ml.Transforms.PretrainMaskedAutoencoder(PretrainingData.Options()).Fit(data),
            "'Image'", "PatchSize", "1×9×9");
    }

    [TestMethod]
    [DataRow(0.0)]
    [DataRow(1.0)]
    [DataRow(-0.1)]
    [DataRow(double.NaN)]
    public void MaskRatiosOutsideTheOpenUnitIntervalAreRefused(double ratio)
    {
        var options = PretrainingData.Options();
        options.MaskRatio = ratio;
        ThrowsNaming<ArgumentOutOfRangeException>(() => new MLContext(0).Transforms.PretrainMaskedAutoencoder(options), "MaskRatio");
    }

    [TestMethod]
    [DataRow(-0.01)]
    [DataRow(1.5)]
    public void AdversarialSharesOutsideTheUnitIntervalAreRefused(double share)
    {
        var options = PretrainingData.Options();
        options.MaxAdversarialShare = share;
        ThrowsNaming<ArgumentOutOfRangeException>(() => new MLContext(0).Transforms.PretrainMaskedAutoencoder(options), "MaxAdversarialShare");
    }

    [TestMethod]
    public void NegativeLambdaIsRefused()
    {
        var options = PretrainingData.Options();
        options.AdversarialWeight = -1;
        ThrowsNaming<ArgumentOutOfRangeException>(() => new MLContext(0).Transforms.PretrainMaskedAutoencoder(options), "AdversarialWeight");
    }

    [TestMethod]
    public void EmptyDataIsRefusedNamingTheColumn()
    {
        var ml = new MLContext(0);
        var data = ml.Data.LoadFromEnumerable(Array.Empty<PretrainingData.Row>());
        ThrowsNaming<InvalidOperationException>(() => ml.Transforms.PretrainMaskedAutoencoder(PretrainingData.Options()).Fit(data), "no rows", "'Image'");
    }

    [TestMethod]
    public void NanPixelsAreRefusedNamingTheColumnAndRow()
    {
        var ml = new MLContext(0);
        var rows = PretrainingData.Rows(4, seed: 5);
        rows[2].Image[7] = float.NaN;
        ThrowsNaming<InvalidOperationException>(() => ml.Transforms.PretrainMaskedAutoencoder(PretrainingData.Options()).Fit(ml.Data.LoadFromEnumerable(rows)), "'Image'", "row 2");
    }

    [TestMethod]
    public void AMissingImageColumnIsRefusedByTheSchemaCheck()
    {
        var ml = new MLContext(0);
        var options = PretrainingData.Options();
        options.ImageColumnName = "Pixels";
        var estimator = ml.Transforms.PretrainMaskedAutoencoder(options);
        ThrowsNaming<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(SchemaShape.Create(PretrainingData.Data(ml, 2, 0).Schema)), "'Pixels'");
    }

    [TestMethod]
    public void AScoreMapWithoutAMaskingNetworkIsRefused()
    {
        var options = PretrainingData.Options(MaskingStrategy.Random);
        options.ScoreMapColumnName = "Scores";
        ThrowsNaming<ArgumentException>(() => new MLContext(0).Transforms.PretrainMaskedAutoencoder(options), "ScoreMapColumnName");
    }
}
