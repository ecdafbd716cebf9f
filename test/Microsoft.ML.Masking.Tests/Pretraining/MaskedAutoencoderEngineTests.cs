using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Pretraining;
using Microsoft.ML.Masking.Pretraining.Engine;
using Microsoft.ML.Masking.Tests.TestDoubles;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Pretraining;

[TestClass]
public sealed class MaskedAutoencoderEngineTests
{
    internal static readonly MaskedAutoencoderArchitecture Tiny = new()
    {
        Channels = 1, ImageHeight = 8, ImageWidth = 8, PatchSize = 2,
        EncoderWidth = 16, EncoderDepth = 1, EncoderHeads = 2, DecoderWidth = 8, DecoderDepth = 1, DecoderHeads = 2, MlpRatio = 2,
    };

    [TestMethod]
    public void RandomMaskingKeepsExactlyTheConfiguredCountAndRestoreInvertsTheShuffle()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(3);
        var settings = new MaskingSettings { MaskRatio = 0.75 };
        int keep = settings.KeepCount(16);
        Assert.AreEqual(4, keep, "⌊16 · 0.25⌋ patches stay visible");
        var mask = MaskSelection.Random(5, 16, keep, CPU, generator);

        CollectionAssert.AreEqual(new long[] { 5, 4 }, mask.KeepIndices.shape);
        CollectionAssert.AreEqual(Enumerable.Repeat(12f, 5).ToArray(), mask.Removed.sum([1]).data<float>().ToArray(), "12 removed per image");
        // The kept indices are exactly the visible positions.
        var visible = ones(5, 16).scatter_(1, mask.KeepIndices, zeros(5, 4));
        Assert.IsTrue(visible.eq(mask.Removed).all().item<bool>());
        // Restore inverts the shuffle: shuffling positions 0..L-1 and gathering with the restore order gives 0..L-1 back.
        var noise = rand([5, 16], generator: generator);
        var m = TokenMask.FromNoise(noise, keep);
        var shuffle = noise.sort(1, stable: true).Indices;
        var restored = shuffle.gather(1, m.RestoreIndices);
        var identity = arange(16, ScalarType.Int64).expand(5, -1);
        Assert.IsTrue(restored.eq(identity).all().item<bool>(), "shuffle ∘ restore is the identity");
        Assert.IsTrue(m.KeepIndices.eq(shuffle.narrow(1, 0, keep)).all().item<bool>(), "the kept patches have the smallest noise");
    }

    [TestMethod]
    public void FusedAttentionEqualsTheWrittenOutFormulaInValueAndGradient()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(11);
        manual_seed(11);
        var block = new TransformerBlock(width: 16, heads: 4, mlpRatio: 2);
        var x = randn([3, 7, 16], generator: generator);
        var fusedInput = x.clone().requires_grad_(true);
        var referenceInput = x.clone().requires_grad_(true);
        var upstream = randn([3, 7, 16], generator: generator);

        var fused = block.AttentionOutput(fusedInput);
        var reference = block.ReferenceAttention(referenceInput);
        FloatAssert.AreClose(reference, fused, 1e-5, "fused scaled_dot_product_attention against softmax(q·kᵀ/√d)·v");
        fused.mul(upstream).sum().backward();
        reference.mul(upstream).sum().backward();
        FloatAssert.AreClose(referenceInput.grad!, fusedInput.grad!, 1e-5, "input gradients of the fused and the written-out attention");
    }

    [TestMethod]
    public void TheDecoderPutsEveryTokenBackAtItsPatchPosition()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(1);
        var mae = new MaskedAutoencoder(Tiny, generator);
        var images = rand([3, 1, 8, 8], generator: generator);
        var mask = MaskSelection.Random(3, 16, 4, CPU, generator);
        // Changing a removed patch's pixels cannot change the prediction; changing a visible one does.
        var prediction = mae.Decode(mae.Encode(images, mask), mask);
        long removedPatch = mask.Removed[0].argmax().item<long>();
        long visiblePatch = mask.KeepIndices[0, 0].item<long>();
        Tensor Edit(long patch)
        {
            var patches = PatchLayout.Patchify(images, 2).clone();
            patches[0, patch] = patches[0, patch].Plus(5.0);
            return PatchLayout.Unpatchify(patches, 2, 1, 4, 4);
        }
        Assert.IsTrue(mae.Decode(mae.Encode(Edit(removedPatch), mask), mask).allclose(prediction), "removed patches are invisible to the encoder");
        Assert.IsFalse(mae.Decode(mae.Encode(Edit(visiblePatch), mask), mask).allclose(prediction), "visible patches reach the prediction");
    }

    [TestMethod]
    public void PatchifyAndUnpatchifyAreInverseInTheReferenceOrder()
    {
        using var scope = NewDisposeScope();
        var images = arange(2 * 3 * 4 * 6, ScalarType.Float32).reshape(2, 3, 4, 6);
        var patches = PatchLayout.Patchify(images, 2);
        CollectionAssert.AreEqual(new long[] { 2, 6, 12 }, patches.shape);
        // Patch 1 of image 0 is rows 0-1, columns 2-3; its values run (pixel row, pixel column, channel).
        float[] expected = [images[0, 0, 0, 2].item<float>(), images[0, 1, 0, 2].item<float>(), images[0, 2, 0, 2].item<float>()];
        CollectionAssert.AreEqual(expected, patches[0, 1].narrow(0, 0, 3).data<float>().ToArray());
        Assert.IsTrue(PatchLayout.Unpatchify(patches, 2, 3, 2, 3).eq(images).all().item<bool>());
    }

    [TestMethod]
    public void TheLossCountsOnlyRemovedPatches()
    {
        using var scope = NewDisposeScope();
        var errors = tensor(new float[] { 1, 2, 3, 4, 10, 20, 30, 40 }, [2, 4]);
        var removed = tensor(new float[] { 1, 0, 1, 0, 0, 0, 0, 1 }, [2, 4]);
        Assert.AreEqual((1 + 3 + 40) / 3.0, MaskedAutoencoder.RemovedPatchLoss(errors, removed).item<float>(), 1e-5);

        // End to end: predictions wrong only on visible patches leave the loss at 0.
        using var generator = new Generator(2);
        var mae = new MaskedAutoencoder(Tiny, generator);
        var images = rand([2, 1, 8, 8], generator: generator);
        var mask = MaskSelection.Random(2, 16, 4, CPU, generator);
        var target = mae.Targets(images, normalizePixels: false);
        var prediction = target.Plus(mask.Removed.OneMinus().unsqueeze(-1).Times(7.0));
        Assert.AreEqual(0f, MaskedAutoencoder.RemovedPatchLoss(MaskedAutoencoder.PatchErrors(prediction, target), mask.Removed).item<float>());
    }

    [TestMethod]
    public void NormalisedPixelTargetsHaveZeroMeanAndUnitVariancePerPatch()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(4);
        var mae = new MaskedAutoencoder(Tiny, generator);
        var images = rand([2, 1, 8, 8], generator: generator).Times(3.0).Plus(1.0);
        var target = mae.Targets(images, normalizePixels: true);
        Assert.IsTrue(target.mean([-1]).abs().max().item<float>() < 1e-5);
        Assert.IsTrue(target.var(-1, unbiased: true).Plus(-1.0).abs().max().item<float>() < 1e-3);
    }

    [TestMethod]
    public void PositionalEmbeddingsMatchTheClosedForm()
    {
        using var scope = NewDisposeScope();
        int rows = 3, columns = 5, width = 8, quarter = width / 4;
        var table = SinCosPositionalEmbedding.Create(rows, columns, width);
        CollectionAssert.AreEqual(new long[] { 1 + rows * columns, width }, table.shape);
        Assert.AreEqual(0f, table[0].abs().sum().item<float>(), "the CLS row is zero");
        var values = table.data<float>().ToArray();
        for (int r = 0; r < rows; r++)
        for (int c = 0; c < columns; c++)
        for (int k = 0; k < quarter; k++)
        {
            double omega = 1.0 / Math.Pow(10000, (double)k / quarter);
            int row = (1 + r * columns + c) * width;
            Assert.AreEqual(Math.Sin(c * omega), values[row + k], 1e-6);
            Assert.AreEqual(Math.Cos(c * omega), values[row + quarter + k], 1e-6);
            Assert.AreEqual(Math.Sin(r * omega), values[row + 2 * quarter + k], 1e-6);
            Assert.AreEqual(Math.Cos(r * omega), values[row + 3 * quarter + k], 1e-6);
        }
        using var generator = new Generator(0);
        var mae = new MaskedAutoencoder(Tiny, generator);
        Assert.IsTrue(mae.PositionalEmbedding.squeeze(0).eq(SinCosPositionalEmbedding.Create(4, 4, 16)).all().item<bool>());
        Assert.IsFalse(mae.parameters().Any(p => p.Handle == mae.PositionalEmbedding.Handle), "the embedding is fixed, not trained");
        Assert.IsTrue(mae.state_dict().ContainsKey("pos_embed"));
    }

    [TestMethod]
    [DataRow(0.0)]
    [DataRow(0.25)]
    [DataRow(0.5)]
    [DataRow(1.0)]
    public void TheAdversarialShareIsRespected(double share)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        var settings = new MaskingSettings { Masking = MaskingStrategy.Adversarial, MaskRatio = 0.75 };
        // Distinct scores: the picks must be the top-scoring patches.
        var scores = rand([4, 16], generator: generator).Times(0.5).Plus(0.25);
        var mask = MaskSelection.Adversarial(scores, share, keepCount: 4, settings with { SelectionTemperature = 1e-4 }, generator);
        int picks = (int)Math.Round(share * 12);
        CollectionAssert.AreEqual(Enumerable.Repeat((float)picks, 4).ToArray(), mask.Adversarial.sum([1]).data<float>().ToArray());
        CollectionAssert.AreEqual(Enumerable.Repeat(12f, 4).ToArray(), mask.Removed.sum([1]).data<float>().ToArray());
        Assert.AreEqual(0f, mask.Adversarial.mul(mask.Removed.OneMinus()).sum().item<float>(), "every pick is removed");
        if (picks > 0)
        {
            var top = scores.topk(picks, dim: 1).indexes;
            var expected = zeros(4, 16).scatter_(1, top, ones(4, picks));
            Assert.IsTrue(expected.eq(mask.Adversarial).all().item<bool>(), "at a low temperature the picks are the top scores");
        }
    }

    [TestMethod]
    public void SaturatedScoresArePickedAtRandomNotInIndexOrder()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(6);
        var settings = new MaskingSettings { Masking = MaskingStrategy.Adversarial };
        var saturated = ones(64, 16);
        var mask = MaskSelection.Adversarial(saturated, 1.0, 4, settings, generator);
        var frequency = mask.Adversarial.mean([0]).data<float>().ToArray();
        Assert.IsTrue(frequency.Min() > 0.4f, $"every position gets picked sometimes: [{string.Join(", ", frequency)}]");
    }

    [TestMethod]
    public void ThresholdRulesOnlyPickCandidates()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(7);
        var scores = tensor(new float[] { 0.9f, 0.8f, 0.1f, 0.1f, 0.2f, 0.1f, 0.4f, 0.1f }, [1, 8]);
        var fixedRule = new MaskingSettings { Masking = MaskingStrategy.Adversarial, AdversarialRule = AdversarialPatchRule.AboveThreshold, ScoreThreshold = 0.5 };
        var mask = MaskSelection.Adversarial(scores, 1.0, 2, fixedRule, generator);
        CollectionAssert.AreEqual(new float[] { 1, 1, 0, 0, 0, 0, 0, 0 }, mask.Adversarial.flatten().data<float>().ToArray(),
            "only the two patches above 0.5 count as adversarial; random patches fill the other four removals");
        Assert.AreEqual(6f, mask.Removed.sum().item<float>());
        var meanRule = fixedRule with { AdversarialRule = AdversarialPatchRule.AboveImageMean };
        var dynamic = MaskSelection.Adversarial(scores, 1.0, 2, meanRule, generator);
        CollectionAssert.AreEqual(new float[] { 1, 1, 0, 0, 0, 0, 1, 0 }, dynamic.Adversarial.flatten().data<float>().ToArray(),
            "patches above the image's mean score (0.3375)");
    }

    [TestMethod]
    [DataRow(AdversarialObjective.MaximizeReconstructionError, 1)]
    [DataRow(AdversarialObjective.SeedLiteral, -1)]
    public void OneMaskingNetworkStepMovesThePickedPatchesErrorInTheObjectivesDirection(AdversarialObjective objective, int expectedSign)
    {
        using var scope = NewDisposeScope();
        var settings = new MaskingSettings
        {
            Masking = MaskingStrategy.Adversarial, Objective = objective, SizePenaltyWeight = 0, DiversityPenaltyWeight = 0, SelectionTemperature = 0.1,
        };
        var network = new MaskedPretrainingNetwork(Tiny, withMaskingNetwork: true, maskingNetworkChannels: 4, seed: 11);
        var objectiveFunction = new MaskedPretrainingObjective(settings);
        using var data = new Generator(12);
        var images = rand([8, 1, 8, 8], generator: data);
        using var optimizer = optim.SGD(network.MaskingNetworkParameters, 1.0);

        double Picked(out double soft)
        {
            using var noGrad = no_grad();
            using var g = new Generator(13);
            var r = objectiveFunction.Compute(network, images, 1.0, g);
            var logits = MaskSelection.SelectionLogits(network.PatchScores(images)!, settings.SelectionTemperature);
            soft = MaskedPretrainingObjective.ExpectedPickedError(logits, r.PatchErrors, r.Mask.Removed).item<float>();
            return r.PatchErrors.mul(r.Mask.Adversarial).sum().item<float>() / r.Mask.Adversarial.sum().item<float>();
        }

        Picked(out double before);
        using (var g = new Generator(13))
        {
            optimizer.zero_grad();
            objectiveFunction.Compute(network, images, 1.0, g).Total.backward();
            optimizer.step();
        }
        Picked(out double after);
        Assert.AreEqual(expectedSign, Math.Sign(after - before), $"expected error of the picks: {before} → {after}");
    }

    [TestMethod]
    public void TheMaskingNetworkHasTheSeedsArchitecture()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(0);
        var amn = new AdversarialMaskingNetwork(3, 8, generator);
        var convs = amn.modules().OfType<TorchSharp.Modules.Conv2d>().ToList();
        Assert.HasCount(3, convs);
        foreach (var conv in convs)
        {
            CollectionAssert.AreEqual(new long[] { 3, 3 }, conv.weight.shape.Skip(2).ToArray());
        }
        var scores = amn.forward(randn([2, 3, 12, 12], generator: generator).Times(10.0));
        CollectionAssert.AreEqual(new long[] { 2, 1, 12, 12 }, scores.shape, "one score per pixel (stride 1, padding 1)");
        Assert.IsTrue(scores.min().item<float>() >= 0 && scores.max().item<float>() <= 1, "sigmoid output");
        var perPatch = PatchLayout.PoolPerPatch(scores, 4);
        Assert.AreEqual(scores[0, 0].narrow(0, 8, 4).narrow(1, 0, 4).mean().item<float>(), perPatch[0, 6].item<float>(), 1e-6);
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(3)]
    public void TheMaskingNetworkInChannelsLastEqualsTheDefaultLayoutInValueAndGradient(int channels)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        var amn = new AdversarialMaskingNetwork(channels, 8, generator);
        var convs = amn.modules().OfType<TorchSharp.Modules.Conv2d>().ToList();
        var images = randn([4, channels, 12, 12], generator: generator);
        var upstream = randn([4, 1, 12, 12], generator: generator);

        // The same three convolutions written out on contiguous (default-layout) tensors.
        Tensor Conv(int i, Tensor x) => nn.functional.conv2d(x.contiguous(), convs[i].weight, convs[i].bias, padding: [1, 1]);
        var reference = Conv(2, nn.functional.relu(Conv(1, nn.functional.relu(Conv(0, images))))).sigmoid();
        Assert.IsTrue(reference.is_contiguous());
        reference.mul(upstream).sum().backward();
        var referenceGradients = convs.Select(c => c.weight.grad!.clone()).ToList();
        foreach (var c in convs) c.weight.grad!.zero_();

        var scores = amn.forward(images);
        FloatAssert.AreClose(reference.detach(), scores.detach(), 1e-5, "channels-last scores against the default layout's");
        scores.mul(upstream).sum().backward();
        for (int i = 0; i < 3; i++)
            FloatAssert.AreClose(referenceGradients[i], convs[i].weight.grad!, 1e-5, $"weight gradient of convolution {i + 1}");
    }

    [TestMethod]
    public void DiagnosticsTellRandomMasksFromOneFixedPattern()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(8);
        var accumulator = new MaskDiagnosticsAccumulator(Tiny);
        var randomMask = MaskSelection.Random(200, 16, 4, CPU, generator);
        accumulator.Add(randomMask, ones(200, 16), null, 0);
        var random = accumulator.Result();
        Assert.IsTrue(random.PositionEntropy > 0.99, $"entropy {random.PositionEntropy}");
        Assert.AreEqual(random.RandomPairwiseOverlap, random.PairwiseOverlap, 0.02);
        Assert.IsNull(random.HardnessGap);

        var fixedPattern = new MaskDiagnosticsAccumulator(Tiny);
        var same = TokenMask.FromNoise(arange(16, ScalarType.Float32).expand(10, -1), 4, zeros(10, 16).index_fill_(1, tensor(new long[] { 15 }), ScalarMath.One));
        var errors = ones(10, 16).Plus(zeros(10, 16).index_fill_(1, tensor(new long[] { 15 }), ScalarMath.One).Times(2.0));
        var objects = zeros(10, 64);
        objects.narrow(1, 56, 8).fill_(ScalarMath.One);  // the last pixel row: patches 12-15, all removed
        fixedPattern.Add(same, errors, objects, 1);
        var result = fixedPattern.Result();
        Assert.AreEqual(Math.Log(12) / Math.Log(16), result.PositionEntropy, 1e-9);
        Assert.AreEqual(1.0, result.PairwiseOverlap, 1e-12);
        Assert.AreEqual(2.0, result.HardnessGap!.Value, 1e-6, "picked patch error 3, random ones 1");
        Assert.AreEqual(1.0, result.ObjectShareMasked!.Value, 1e-12);
        Assert.AreEqual(0.25, result.ObjectShareAdversarial!.Value, 1e-12, "patch 15 holds 2 of the 8 object pixels");
    }
}
