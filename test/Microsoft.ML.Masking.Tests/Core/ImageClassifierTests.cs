using System.Text.Json;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Core.Persistence;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Tests.LayerMasking;
using Microsoft.ML.Masking.Tests.TestDoubles;
using static Microsoft.ML.Masking.Tests.LayerMasking.TestNetworks;

namespace Microsoft.ML.Masking.Tests.Core;

/// <summary><see cref="ImageClassifier"/>: what it infers, what it rejects (naming the parameter), and how it is saved.</summary>
[TestClass]
public sealed class ImageClassifierTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void AResNetGivesItsArchitectureClassCountAndFeatureWidth()
    {
        var network = SmallBasic();
        var classifier = ImageClassifier.FromModule(network, ChannelNormalization.ImageNet, new ImageShape(3, 32, 32));
        Assert.AreSame(network.Architecture, classifier.Architecture);
        Assert.AreEqual(5, classifier.ClassCount);
        Assert.AreEqual(network.Architecture.FeatureChannels, classifier.FeatureCount);
        Assert.IsNull(classifier.ClassNames);
        Assert.IsNull(classifier.Device, "the MLContext chooses");
    }

    [TestMethod]
    public void ATorchVisionModuleGetsItsClassCountFromItsLastLinearLayer()
    {
        var classifier = ImageClassifier.FromModule((TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>)TorchVisionResNet18(),
            ChannelNormalization.ImageNet, new ImageShape(3, 64, 64));
        Assert.AreEqual(6, classifier.ClassCount);
        Assert.AreEqual(512, classifier.FeatureCount);
        Assert.IsNull(classifier.Architecture, "not a Microsoft.ML.Masking.Models.ResNet: it cannot be rebuilt on load");
    }

    [TestMethod]
    public void DisagreementsNameTheParameterAndBothCounts()
    {
        var network = SmallBasic();
        var e = Assert.ThrowsExactly<ArgumentException>(() => ImageClassifier.FromModule(network, ChannelNormalization.Identity(1), new ImageShape(3, 32, 32)));
        Assert.AreEqual("normalization", e.ParamName);
        StringAssert.Contains(e.Message, "The normalization has 1 channel(s) but imageShape 3×32×32 has 3");

        e = Assert.ThrowsExactly<ArgumentException>(() => ImageClassifier.FromModule(network, ChannelNormalization.Identity(1), new ImageShape(1, 32, 32)));
        Assert.AreEqual("imageShape", e.ParamName);
        StringAssert.Contains(e.Message, "The network takes 3 input channel(s) but imageShape 1×32×32 has 1");

        e = Assert.ThrowsExactly<ArgumentException>(() => ImageClassifier.FromModule(network, ChannelNormalization.ImageNet, new ImageShape(3, 32, 32), ["a", "b"]));
        Assert.AreEqual("classNames", e.ParamName);
        StringAssert.Contains(e.Message, "classNames has 2 names but the network has 5 classes");
    }

    [TestMethod]
    public void ANormalizationWithTheWrongNumberOfValuesNamesBothParameters()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => new ChannelNormalization([0.5f], [0.2f, 0.2f, 0.2f]));
        StringAssert.Contains(e.Message, "mean has 1 value(s) and standardDeviation 3");
        Assert.AreEqual("standardDeviation", e.ParamName);
        e = Assert.ThrowsExactly<ArgumentException>(() => new ChannelNormalization([0.5f, float.NaN], [0.2f, 0.2f]));
        StringAssert.Contains(e.Message, "mean[1] is NaN");
    }

    [TestMethod]
    public void TheArchitectureRecordAndItsFactoriesShareOneClassCountDefault()
    {
        Assert.AreEqual(1000, new ResNetArchitecture().NumClasses);
        Assert.AreEqual(new ResNetArchitecture().NumClasses, ResNetArchitecture.ResNet18().NumClasses);
        Assert.AreEqual(new ResNetArchitecture().NumClasses, ResNetArchitecture.ResNet50().NumClasses);
    }

    [TestMethod]
    public void TheImageNetPresetHasTorchvisionsStatistics()
    {
        CollectionAssert.AreEqual(new[] { 0.485f, 0.456f, 0.406f }, ChannelNormalization.ImageNet.Mean.ToArray());
        CollectionAssert.AreEqual(new[] { 0.229f, 0.224f, 0.225f }, ChannelNormalization.ImageNet.StandardDeviation.ToArray());
    }

    [TestMethod]
    public void AWeightsFileWithTheOtherStemSaysWhichStemToSet()
    {
        var folder = TestFolders.Create(TestContext, "stem");
        var imageNetStem = new ResNet(new ResNetArchitecture { Layers = [1], BaseWidth = 8, NumClasses = 3, SmallImageStem = false });
        var path = Path.Combine(folder, "imagenet-stem.safetensors");
        ModuleWeights.SaveFile(imageNetStem, path);

        var e = Assert.ThrowsExactly<ArgumentException>(() => ImageClassifier.FromWeights(path,
            imageNetStem.Architecture with { SmallImageStem = true }, ChannelNormalization.ImageNet, new ImageShape(3, 32, 32)));
        StringAssert.Contains(e.Message, "conv1.weight");
        StringAssert.Contains(e.Message, "looks like a 7×7 ImageNet stem: set ResNetArchitecture.SmallImageStem = false");
        Assert.IsInstanceOfType<StateDictMismatchException>(e.InnerException);

        var fitting = ImageClassifier.FromWeights(path, imageNetStem.Architecture, ChannelNormalization.ImageNet, new ImageShape(3, 32, 32), ["a", "b", "c"]);
        CollectionAssert.AreEqual(new[] { "a", "b", "c" }, fitting.ClassNames!.ToArray());
    }

    [TestMethod]
    public void AMissingWeightsFileOrArchitectureIsNamed()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-weights.safetensors");
        var e = Assert.ThrowsExactly<FileNotFoundException>(() =>
            ImageClassifier.FromWeights(missing, ResNetArchitecture.ResNet18(), ChannelNormalization.ImageNet, new ImageShape(3, 64, 64)));
        StringAssert.Contains(e.Message, missing);
        var noArchitecture = Assert.ThrowsExactly<ArgumentNullException>(() =>
            ImageClassifier.FromWeights(missing, null!, ChannelNormalization.ImageNet, new ImageShape(3, 64, 64)));
        Assert.AreEqual("architecture", noArchitecture.ParamName);
    }

    [TestMethod]
    public void ANetworkNoSavedDescriptionRebuildsRefusesToSaveAndSaysWhatToDoInstead()
    {
        var ml = new MLContext(seed: 1);
        // A Sequential of its own: neither the library's ResNet, a TorchVision classifier nor an ONNX import.
        var classifier = ImageClassifier.FromModule(PlainStack(), ChannelNormalization.ImageNet, new ImageShape(3, 32, 32));
        var data = LayerMaskInputChecksTests.Rows(ml, 2, 32, 32);
        using var transformer = ml.Transforms.LayerMask("Score", classifier).Fit(data);
        var e = Assert.ThrowsExactly<NotSupportedException>(() => ml.Model.Save(transformer, data.Schema, new MemoryStream()));
        StringAssert.Contains(e.Message, "ImageClassifier.FromWeights");
        StringAssert.Contains(e.Message, "Sequential");
    }

    [TestMethod]
    public void AVersion1LayerMaskHeaderIsReadWithTheOldColourSpelling()
    {
        // Header.json as version 1 wrote it (flat fields, "MeanColour").
        const string v1 = """
            {
              "ImageColumnName": "Pixels", "MaskColumnName": "Mask", "ScoreColumnName": "Score", "FeaturesColumnName": null,
              "ImageChannels": 3, "ImageHeight": 60, "ImageWidth": 80, "Method": "MeanColour",
              "ChannelMean": [0.5, 0.5, 0.5], "ChannelStandardDeviation": [0.25, 0.25, 0.25],
              "BlurSigma": 4, "NoiseSeed": 2, "OutputLogits": false, "BatchSize": 32,
              "Architecture": { "Block": "Basic", "Layers": [1], "BaseWidth": 8, "WidthPerGroup": 64, "Groups": 1, "InputChannels": 3, "NumClasses": 2, "SmallImageStem": true },
              "MaskMarksRemoved": true, "ClassNames": ["a", "b"], "PredictedLabelColumnName": "PredictedLabel"
            }
            """;
        var header = JsonSerializer.Deserialize<LayerMaskingTransformer.SavedHeaderV1>(v1, ModelJson.Options)!.Upgrade();
        Assert.AreEqual(MaskingMethod.MeanColor, header.Settings.Method);
        Assert.AreEqual(new ImageShape(3, 60, 80), header.Classifier.ImageShape);
        Assert.IsTrue(header.Settings.MaskMarksRemoved);
        Assert.AreEqual(2, header.Settings.NoiseSeed);
        CollectionAssert.AreEqual(new[] { "a", "b" }, header.Classifier.ClassNames);
    }
}
