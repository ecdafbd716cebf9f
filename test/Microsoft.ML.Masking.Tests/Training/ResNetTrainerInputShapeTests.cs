using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Tests.TestDoubles;
using Microsoft.ML.Masking.Training;
using Microsoft.ML.Runtime;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Training;

/// <summary>The trainer takes the image layout from the column's dimensions, and what else it must not do behind the caller's back.</summary>
[TestClass]
public sealed class ResNetTrainerInputShapeTests
{
    /// <summary>Rows of random planar pixels with the given dimensions and labels cycling over three classes.</summary>
    private static IDataView Images(int count, int[] dimensions)
    {
        int size = dimensions.Aggregate(1, (a, b) => a * b);
        return new IndexedDataView<long>(count, i => i,
        [
            IndexedColumn<long>.FloatTensor("Image", dimensions, (i, destination) =>
            {
                var random = new Random((int)i);
                for (int p = 0; p < size; p++)
                    destination[p] = random.NextSingle();
            }),
            IndexedColumn<long>.ClassKey("Label", ["a", "b", "c"], i => (int)(i % 3)),
        ]);
    }

    private static ResNetTrainer.Options Options()
    {
        var options = TrainingFixtures.TinyOptions();
        options.Epochs = 1;
        options.BatchSize = 4;
        options.RandomCropPadding = 0;
        return options;
    }

    [TestMethod]
    public void ColourImagesOfSixtyByEightyShapeAreTrainedAsThreeBySixtyByEighty()
    {
        // The user's case was 3×60×80 (14,400 values, also 1×120×120); 3×6×8 has the same trap at a tenth of the cost:
        // its 144 values are also a 1×12×12 square.
        var ml = new MLContext(1);
        var model = ml.MulticlassClassification.Trainers.ResNet(Options()).Fit(Images(8, [3, 6, 8]));
        Assert.AreEqual(new ImageShape(3, 6, 8), model.ImageShape);
        Assert.AreEqual(3, model.ResNet.Architecture.InputChannels);
    }

    [TestMethod]
    public void InterleavedPixelsAreRefusedNamingTheColumn()
    {
        var ml = new MLContext(1);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.ResNet(Options()).Fit(Images(8, [6, 8, 3])));
        StringAssert.Contains(e.Message, "Schema mismatch for input column 'Image' in the training data");
        StringAssert.Contains(e.Message, "got Vector<Single, 6, 8, 3>. The pixels are interleaved");
        StringAssert.Contains(e.Message, "interleavePixelColors: false");
    }

    [TestMethod]
    public void AnImageShapeThatContradictsTheDimensionsIsRefused()
    {
        var ml = new MLContext(1);
        var options = Options();
        options.ImageShape = new ImageShape(3, 8, 6);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.ResNet(options).Fit(Images(8, [3, 6, 8])));
        StringAssert.Contains(e.Message, "'Image'");
        StringAssert.Contains(e.Message, "Vector<Single, 3, 6, 8>");
        StringAssert.Contains(e.Message, "Width and height are swapped");
    }

    [TestMethod]
    public void CancelExecutionOfTheMLContextStopsTraining()
    {
        var ml = new MLContext(1);
        ml.Log += (_, e) => { if (e.Kind == ChannelMessageKind.Info && e.RawMessage.StartsWith("Epoch 1/3", StringComparison.Ordinal)) ml.CancelExecution(); };
        var options = TrainingFixtures.TinyOptions();
        options.Epochs = 3;
        var epochs = new List<string>();
        ml.Log += (_, e) => { if (e.Kind == ChannelMessageKind.Info && e.RawMessage.StartsWith("Epoch ", StringComparison.Ordinal)) epochs.Add(e.RawMessage); };

        Assert.ThrowsExactly<OperationCanceledException>(() => ml.MulticlassClassification.Trainers.ResNet(options).Fit(TrainingFixtures.Shapes(ml, 64, seed: 3)));
        Assert.HasCount(1, epochs, "the host's cancellation is seen at the next batch");
    }

    [TestMethod]
    public void TheThreadCountIsChangedOnlyWhenAskedAndRestoredAfterwards()
    {
        int before = get_num_threads();
        int other = before == 1 ? 2 : 1;
        var ml = new MLContext(1);
        int during = 0;
        ml.Log += (_, e) => { if (e.RawMessage.StartsWith("Epoch 1/", StringComparison.Ordinal)) during = get_num_threads(); };

        var asked = Options();
        asked.NumberOfThreads = other;
        ml.MulticlassClassification.Trainers.ResNet(asked).Fit(Images(8, [1, 4, 4]));
        Assert.AreEqual(other, during, "the requested count is used while training");
        Assert.AreEqual(before, get_num_threads(), "and the caller's count is back afterwards");

        var notAsked = Options();
        notAsked.NumberOfThreads = null;
        ml.MulticlassClassification.Trainers.ResNet(notAsked).Fit(Images(8, [1, 4, 4]));
        Assert.AreEqual(before, during, "without NumberOfThreads the count is left alone");
        Assert.AreEqual(before, get_num_threads());
    }
}
