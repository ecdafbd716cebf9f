using Microsoft.ML.Masking.Training;
using Microsoft.ML.Masking.Core.Training;
using Microsoft.ML.Masking.Training.Engine;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Training;

[TestClass]
public sealed class TrainingAugmentationTests
{
    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private static Tensor Ramp(long batch, long channels, long size) =>
        arange(batch * channels * size * size, ScalarType.Float32).reshape(batch, channels, size, size).add_(1);

    [TestMethod]
    public void RandomCropIsAShiftOfTheZeroPaddedImage()
    {
        using var scope = NewDisposeScope();
        var images = Ramp(8, 2, 6);
        using var generator = new Generator(3);
        var cropped = new BatchAugmenter(cropPadding: 2, horizontalFlip: false, erasingProbability: 0).CropAndFlip(images, generator);

        var padded = nn.functional.pad(images, [2, 2, 2, 2]);
        for (int b = 0; b < 8; b++)
        {
            bool found = false;
            for (int dy = 0; dy <= 4 && !found; dy++)
                for (int dx = 0; dx <= 4 && !found; dx++)
                    found = Same(padded[b].narrow(1, dy, 6).narrow(2, dx, 6), cropped[b]);
            Assert.IsTrue(found, $"image {b} is some 6×6 window of its padded self");
        }
        Assert.IsFalse(Same(cropped, images), "eight images are not all left in place");
    }

    [TestMethod]
    public void FlipMirrorsSomeImagesAndLeavesTheOthers()
    {
        using var scope = NewDisposeScope();
        var images = Ramp(16, 1, 4);
        using var generator = new Generator(5);
        var flipped = new BatchAugmenter(cropPadding: 0, horizontalFlip: true, erasingProbability: 0).CropAndFlip(images, generator);

        int mirrored = 0;
        for (int b = 0; b < 16; b++)
        {
            bool same = Same(flipped[b], images[b]), mirror = Same(flipped[b], images[b].flip(2));
            Assert.IsTrue(same || mirror);
            mirrored += mirror ? 1 : 0;
        }
        Assert.IsTrue(mirrored is > 0 and < 16);
    }

    [TestMethod]
    public void RandomErasingZeroesOneRectanglePerErasedImage()
    {
        using var scope = NewDisposeScope();
        var images = Ramp(32, 3, 10);
        using var generator = new Generator(7);
        var erased = new BatchAugmenter(cropPadding: 0, horizontalFlip: false, erasingProbability: 0.5).Erase(images, generator);

        int touched = 0;
        for (int b = 0; b < 32; b++)
        {
            var zero = erased[b].eq(0);                          // the ramp has no zeros of its own
            Assert.IsTrue(zero.all(0).eq(zero[0]).all().item<bool>(), "the same pixels in every channel");
            var plane = zero[0];
            long count = plane.sum().item<long>();
            Assert.IsTrue(Same(erased[b].where(plane.logical_not().unsqueeze(0), images[b]), images[b]), "other pixels are kept");
            if (count == 0)
                continue;
            touched++;
            var rows = plane.any(1).nonzero().flatten();
            var columns = plane.any(0).nonzero().flatten();
            long height = rows.max().item<long>() - rows.min().item<long>() + 1, width = columns.max().item<long>() - columns.min().item<long>() + 1;
            Assert.AreEqual(height * width, count, $"image {b}: the erased pixels form one rectangle");
        }
        Assert.IsTrue(touched is > 4 and < 28, $"about half of 32 images are erased ({touched})");
    }

    [TestMethod]
    public void ScheduleWarmsUpLinearlyThenDecays()
    {
        var cosine = new LearningRateSchedule(0.1, LearningRateScheduleKind.Cosine, WarmupEpochs: 1);
        double Cosine(long s) => cosine.At(s, stepsPerEpoch: 10, epochs: 5);
        Assert.AreEqual(0.01, Cosine(0), 1e-12);
        Assert.AreEqual(0.1, Cosine(9), 1e-12);
        Assert.AreEqual(0.1, Cosine(10), 1e-12);
        Assert.AreEqual(0.05, Cosine(30), 1e-12, "half way through the decay");
        Assert.IsLessThan(0.001, Cosine(49));

        var step = new LearningRateSchedule(0.1, LearningRateScheduleKind.Step, WarmupEpochs: 0, Milestones: [2, 4], Gamma: 0.1);
        double Step(long s) => step.At(s, stepsPerEpoch: 10, epochs: 5);
        Assert.AreEqual(0.1, Step(19), 1e-12);
        Assert.AreEqual(0.01, Step(20), 1e-12);
        Assert.AreEqual(0.001, Step(40), 1e-12);
    }
}
