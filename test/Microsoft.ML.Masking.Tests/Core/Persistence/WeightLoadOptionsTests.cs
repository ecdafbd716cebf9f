using Microsoft.ML.Masking.Core.Persistence;
using Microsoft.ML.Masking.Models;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Core.Persistence;

/// <summary>Loading weights that do not match a module key for key: skipped heads, prefixes, a user key map, and the report.</summary>
[TestClass]
public sealed class WeightLoadOptionsTests
{
    private static readonly ResNetArchitecture Tiny = new() { Layers = [1, 1], BaseWidth = 4, NumClasses = 3, InputChannels = 1, SmallImageStem = true };

    private sealed class Wrapper : nn.Module
    {
        public readonly ResNet encoder;

        public Wrapper(ResNet inner) : base(nameof(Wrapper))
        {
            encoder = inner;
            RegisterComponents();
        }
    }

    /// <summary>The state of <paramref name="module"/> as safetensors bytes, every key passed through <paramref name="rename"/>.</summary>
    private static byte[] Renamed(nn.Module module, Func<string, string> rename)
    {
        var state = module.state_dict().ToDictionary(p => rename(p.Key), p => p.Value.detach().contiguous());
        using var stream = new MemoryStream();
        Safetensors.SaveStateDict(stream, state, leaveOpen: true);
        return stream.ToArray();
    }

    private static Dictionary<string, byte[]> Bytes(nn.Module module) =>
        module.state_dict().ToDictionary(p => p.Key, p => p.Value.bytes.ToArray());

    private static void AssertSameValues(byte[] expected, Tensor actual, string key) =>
        Assert.IsTrue(expected.SequenceEqual(actual.bytes.ToArray()), $"'{key}' differs");

    [TestMethod]
    public void StrictIsTheDefaultAndReportsACompleteLoad()
    {
        var source = new ResNet(Tiny, seed: 1);
        var target = new ResNet(Tiny, seed: 2);

        var report = ModuleWeights.LoadSafetensors(target, ModuleWeights.ToSafetensors(source), "w");

        Assert.IsTrue(report.IsComplete);
        Assert.HasCount(source.state_dict().Count, report.LoadedKeys);
        Assert.IsEmpty(report.RenamedKeys);
        Assert.IsTrue(new WeightLoadOptions().IsStrict && WeightLoadOptions.Strict.IsStrict);
        var headless = new ResNet(Tiny with { NumClasses = 5 }, seed: 3);
        var error = Assert.Throws<StateDictMismatchException>(() => ModuleWeights.LoadSafetensors(headless, ModuleWeights.ToSafetensors(source), "w"));
        StringAssert.Contains(error.Message, "SkipPrefixes = [\"fc.\"]", "a head of another size suggests skipping it");
    }

    [TestMethod]
    public void ABackboneLoadsWithoutItsHeadAndTheHeadKeepsItsValues()
    {
        var source = new ResNet(Tiny with { NumClasses = 10 }, seed: 1);
        var target = new ResNet(Tiny, seed: 2);
        var sourceValues = Bytes(source);
        var targetValues = Bytes(target);

        var report = ModuleWeights.LoadSafetensors(target, ModuleWeights.ToSafetensors(source), "backbone.safetensors",
            new WeightLoadOptions { SkipPrefixes = ["fc."] });

        foreach (var (key, tensor) in target.state_dict())
            AssertSameValues(key.StartsWith("fc.", StringComparison.Ordinal) ? targetValues[key] : sourceValues[key], tensor, key);
        CollectionAssert.AreEqual(new[] { "fc.weight", "fc.bias" }, report.SkippedModuleKeys.ToArray());
        CollectionAssert.AreEqual(new[] { "fc.bias", "fc.weight" }, report.IgnoredFileKeys.ToArray());
        Assert.HasCount(sourceValues.Count - 2, report.LoadedKeys);
        Assert.IsFalse(report.IsComplete);
        StringAssert.Contains(report.ToString(), "2 module key(s) skipped (fc.weight, fc.bias)");
    }

    [TestMethod]
    public void APrefixIsStrippedAndTheStrictErrorSuggestsIt()
    {
        var source = new ResNet(Tiny, seed: 1);
        var bytes = Renamed(source, k => "module." + k);

        var strict = Assert.Throws<StateDictMismatchException>(() => ModuleWeights.LoadSafetensors(new ResNet(Tiny, seed: 2), bytes, "dp.safetensors"));
        StringAssert.Contains(strict.Message, "StripPrefix = \"module.\"");

        var target = new ResNet(Tiny, seed: 2);
        var report = ModuleWeights.LoadSafetensors(target, bytes, "dp.safetensors", new WeightLoadOptions { StripPrefix = "module." });

        var expected = Bytes(source);
        foreach (var (key, tensor) in target.state_dict())
            AssertSameValues(expected[key], tensor, key);
        Assert.IsTrue(report.IsComplete);
        Assert.HasCount(expected.Count, report.RenamedKeys);
        Assert.AreEqual(new KeyValuePair<string, string>("module.conv1.weight", "conv1.weight"), report.RenamedKeys[0]);
    }

    [TestMethod]
    public void APrefixIsAddedToLoadAPlainNetworkIntoAWrapper()
    {
        var source = new ResNet(Tiny, seed: 1);
        var target = new Wrapper(new ResNet(Tiny, seed: 2));

        var strict = Assert.Throws<StateDictMismatchException>(() => ModuleWeights.LoadSafetensors(target, ModuleWeights.ToSafetensors(source), "plain"));
        StringAssert.Contains(strict.Message, "AddPrefix = \"encoder.\"");

        var report = ModuleWeights.LoadSafetensors(target, ModuleWeights.ToSafetensors(source), "plain", new WeightLoadOptions { AddPrefix = "encoder." });

        var expected = Bytes(source);
        foreach (var (key, tensor) in target.encoder.state_dict())
            AssertSameValues(expected[key], tensor, key);
        Assert.IsTrue(report.IsComplete);
        Assert.AreEqual("encoder.conv1.weight", report.RenamedKeys[0].Value);
    }

    [TestMethod]
    public void AKeyMapRenamesAndDropsKeys()
    {
        var source = new ResNet(Tiny, seed: 1);
        // A file whose head is called 'classifier' and which carries an extra key the map drops.
        var state = source.state_dict().ToDictionary(p => p.Key.StartsWith("fc.", StringComparison.Ordinal) ? "classifier." + p.Key[3..] : p.Key, p => p.Value.detach());
        state["ema_decay"] = tensor(0.999f);
        using var stream = new MemoryStream();
        Safetensors.SaveStateDict(stream, state, leaveOpen: true);

        var target = new ResNet(Tiny, seed: 2);
        var report = ModuleWeights.LoadSafetensors(target, stream.ToArray(), "mapped", new WeightLoadOptions
        {
            KeyMap = key => key == "ema_decay" ? null : key.StartsWith("classifier.", StringComparison.Ordinal) ? "fc." + key["classifier.".Length..] : key,
        });

        var expected = Bytes(source);
        foreach (var (key, tensor) in target.state_dict())
            AssertSameValues(expected[key], tensor, key);
        CollectionAssert.AreEqual(new[] { "ema_decay" }, report.IgnoredFileKeys.ToArray());
        CollectionAssert.AreEquivalent(new[] { "classifier.weight", "classifier.bias" }, report.RenamedKeys.Select(p => p.Key).ToArray());
    }

    [TestMethod]
    public void MissingAndUnexpectedKeysAreAllowedOnlyWhenAsked()
    {
        var deeper = new ResNet(Tiny with { Layers = [1, 1, 1] }, seed: 1);
        var shallow = new ResNet(Tiny, seed: 2);
        var deeperBytes = ModuleWeights.ToSafetensors(deeper);
        var shallowBytes = ModuleWeights.ToSafetensors(shallow);

        // The deeper network's head reads 16 features, the shallow one's 8: skip the head on both sides.
        var fewer = ModuleWeights.LoadSafetensors(deeper, shallowBytes, "shallow", new WeightLoadOptions { SkipPrefixes = ["fc."], AllowMissingKeys = true });
        Assert.IsTrue(fewer.MissingModuleKeys.Contains("layer3.0.conv1.weight"), string.Join(",", fewer.MissingModuleKeys));
        Assert.IsEmpty(fewer.IgnoredFileKeys.Where(k => !k.StartsWith("fc.", StringComparison.Ordinal)).ToArray());

        var more = ModuleWeights.LoadSafetensors(shallow, deeperBytes, "deeper", new WeightLoadOptions { SkipPrefixes = ["fc."], AllowUnexpectedKeys = true });
        Assert.IsTrue(more.IgnoredFileKeys.Contains("layer3.0.conv1.weight"));
        Assert.IsEmpty(more.MissingModuleKeys);

        Assert.Throws<StateDictMismatchException>(() => ModuleWeights.LoadSafetensors(shallow, deeperBytes, "deeper", new WeightLoadOptions { SkipPrefixes = ["fc."] }));
    }

    [TestMethod]
    public void AShapeMismatchStaysAnErrorUnlessItsKeyIsSkipped()
    {
        var source = new ResNet(Tiny with { NumClasses = 10 }, seed: 1);
        var error = Assert.Throws<StateDictMismatchException>(() => ModuleWeights.LoadSafetensors(new ResNet(Tiny, seed: 2), ModuleWeights.ToSafetensors(source), "w",
            new WeightLoadOptions { AllowMissingKeys = true, AllowUnexpectedKeys = true }));
        Assert.IsTrue(error.MismatchedKeys.Any(k => k.StartsWith("fc.weight", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void ContradictoryOptionsAreRejectedByName()
    {
        var source = new ResNet(Tiny, seed: 1);
        var bytes = ModuleWeights.ToSafetensors(source);

        var unused = Assert.Throws<ArgumentException>(() => ModuleWeights.LoadSafetensors(new ResNet(Tiny, seed: 2), bytes, "w", new WeightLoadOptions { SkipPrefixes = ["head."] }));
        StringAssert.Contains(unused.Message, "SkipPrefixes");
        StringAssert.Contains(unused.Message, "head.");

        var empty = Assert.Throws<ArgumentException>(() => ModuleWeights.LoadSafetensors(new ResNet(Tiny, seed: 2), bytes, "w", new WeightLoadOptions { SkipPrefixes = [""] }));
        StringAssert.Contains(empty.Message, "SkipPrefixes[0]");

        var collision = Assert.Throws<InvalidDataException>(() => ModuleWeights.LoadSafetensors(new ResNet(Tiny, seed: 2), Renamed(source, k => k), "w",
            new WeightLoadOptions { KeyMap = key => key.StartsWith("fc.", StringComparison.Ordinal) ? "fc.bias" : key }));
        StringAssert.Contains(collision.Message, "fc.bias");
    }
}
