using Microsoft.ML.Masking.Core.Persistence;
using Microsoft.ML.Masking.Models;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.ML.Masking.Tests.TestDoubles;

namespace Microsoft.ML.Masking.Tests.Core.Persistence;

[TestClass]
public sealed class ModuleWeightsTests
{
    public TestContext TestContext { get; set; } = null!;

    private static readonly ResNetArchitecture Tiny = new() { Layers = [1, 1], BaseWidth = 4, NumClasses = 3, InputChannels = 1, SmallImageStem = true };

    private string NewFolder() => TestFolders.Create(TestContext, "weights");

    private static void AssertSameState(nn.Module expected, nn.Module actual)
    {
        var want = expected.state_dict();
        var got = actual.state_dict();
        CollectionAssert.AreEqual(want.Keys.ToList(), got.Keys.ToList());
        foreach (var (key, tensor) in want)
        {
            Assert.AreEqual(tensor.dtype, got[key].dtype, key);
            CollectionAssert.AreEqual(tensor.shape, got[key].shape, key);
            Assert.IsTrue(tensor.bytes.SequenceEqual(got[key].bytes), $"'{key}' differs");
        }
    }

    [TestMethod]
    public void SafetensorsBytesRoundTripEveryParameterAndBuffer()
    {
        var source = new ResNet(Tiny, seed: 1);
        using (no_grad())
            foreach (var (_, buffer) in source.named_buffers())
                buffer.add_(3);  // make running statistics differ from a fresh module's
        var bytes = ModuleWeights.ToSafetensors(source);

        var target = new ResNet(Tiny, seed: 2);
        ModuleWeights.LoadSafetensors(target, bytes);

        AssertSameState(source, target);
    }

    [TestMethod]
    public void SafetensorsAndPyTorchFilesLoadFromDisk()
    {
        var folder = NewFolder();
        var source = new ResNet(Tiny, seed: 1);
        ModuleWeights.SaveFile(source, Path.Combine(folder, "w.safetensors"));
        ModuleWeights.SavePyTorchFile(source, Path.Combine(folder, "w.pth"));

        var fromSafetensors = new ResNet(Tiny, seed: 2);
        ModuleWeights.LoadFile(fromSafetensors, Path.Combine(folder, "w.safetensors"));
        AssertSameState(source, fromSafetensors);

        var fromPyTorch = new ResNet(Tiny, seed: 3);
        ModuleWeights.LoadFile(fromPyTorch, Path.Combine(folder, "w.pth"));
        AssertSameState(source, fromPyTorch);
    }

    [TestMethod]
    public void MissingFileNamesThePath()
    {
        var path = Path.Combine(NewFolder(), "absent.pth");
        var error = Assert.Throws<FileNotFoundException>(() => ModuleWeights.LoadFile(new ResNet(Tiny), path));
        Assert.AreEqual(path, error.FileName);
        StringAssert.Contains(error.Message, path);
    }

    [TestMethod]
    public void MismatchedWeightsListMissingUnexpectedAndReshapedKeys()
    {
        var source = new ResNet(Tiny with { NumClasses = 5 }, seed: 1);
        var bytes = ModuleWeights.ToSafetensors(source);
        var target = new ResNet(Tiny with { Layers = [1, 1, 1] }, seed: 1);

        var error = Assert.Throws<StateDictMismatchException>(() => ModuleWeights.LoadSafetensors(target, bytes, "source.safetensors"));

        StringAssert.Contains(error.Message, "source.safetensors");
        Assert.IsTrue(error.MissingKeys.Contains("layer3.0.conv1.weight"), string.Join(",", error.MissingKeys));
        Assert.IsTrue(error.MismatchedKeys.Any(k => k.StartsWith("fc.weight: module Float32[3, 16], file Float32[5, 8]", StringComparison.Ordinal)), string.Join(" | ", error.MismatchedKeys));
        Assert.IsEmpty(error.UnexpectedKeys);
        StringAssert.Contains(error.Message, "layer3.0.conv1.weight");
    }
}
