using Microsoft.ML.Masking.Core.Persistence;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Tests.TestDoubles;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Core.Persistence;

[TestClass]
public sealed class TorchvisionTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>
    /// The state dict of torchvision's resnet18 (names, shapes, dtypes), written from torchvision's layout rather
    /// than from our ResNet, with values drawn from a seeded generator.
    /// </summary>
    private static Dictionary<string, Tensor> TorchvisionResNet18StateDict(int numClasses)
    {
        var generator = new Generator(42);
        var state = new Dictionary<string, Tensor>();
        void Conv(string name, long outC, long inC, long k) => state[name + ".weight"] = randn([outC, inC, k, k], generator: generator);
        void Bn(string name, long c)
        {
            state[name + ".weight"] = rand([c], generator: generator);
            state[name + ".bias"] = randn([c], generator: generator);
            state[name + ".running_mean"] = randn([c], generator: generator);
            state[name + ".running_var"] = rand([c], generator: generator) + 0.5;
            state[name + ".num_batches_tracked"] = tensor(100L);
        }
        Conv("conv1", 64, 3, 7);
        Bn("bn1", 64);
        long inplanes = 64;
        for (int layer = 1; layer <= 4; layer++)
        {
            long planes = 64L << (layer - 1);
            for (int block = 0; block < 2; block++)
            {
                string prefix = $"layer{layer}.{block}";
                Conv($"{prefix}.conv1", planes, inplanes, 3);
                Bn($"{prefix}.bn1", planes);
                Conv($"{prefix}.conv2", planes, planes, 3);
                Bn($"{prefix}.bn2", planes);
                if (block == 0 && layer > 1)
                {
                    Conv($"{prefix}.downsample.0", planes, inplanes, 1);
                    Bn($"{prefix}.downsample.1", planes);
                }
                inplanes = planes;
            }
        }
        state["fc.weight"] = randn([numClasses, 512], generator: generator);
        state["fc.bias"] = randn([numClasses], generator: generator);
        return state;
    }

    private string WriteStateDict(string fileName, Dictionary<string, Tensor> state)
    {
        var folder = TestFolders.Create(TestContext, "torchvision");
        var path = Path.Combine(folder, fileName);
        using var stream = File.Create(path);
        if (fileName.EndsWith(".safetensors", StringComparison.Ordinal))
            Safetensors.SaveStateDict(stream, state, leaveOpen: true);
        else
            PyTorchPickler.PickleStateDict(stream, state, leaveOpen: true);  // what torch.save(model.state_dict(), path) writes
        return path;
    }

    [TestMethod]
    [DataRow("resnet18.pth")]
    [DataRow("resnet18.safetensors")]
    public void TorchvisionResNet18StateDictLoadsIntoResNet18(string fileName)
    {
        using var scope = NewDisposeScope();
        var state = TorchvisionResNet18StateDict(numClasses: 10);
        Assert.HasCount(122, state, "torchvision resnet18 has 122 state-dict entries");
        var path = WriteStateDict(fileName, state);

        var model = new ResNet(ResNetArchitecture.ResNet18(numClasses: 10));
        ModuleWeights.LoadFile(model, path);

        var loaded = model.state_dict();
        foreach (var (key, expected) in state)
            Assert.IsTrue(expected.bytes.SequenceEqual(loaded[key].bytes), $"'{key}' was not loaded");
        model.eval();
        using var noGrad = no_grad();
        var logits = model.forward(randn([2, 3, 32, 32], generator: new Generator(1)));
        CollectionAssert.AreEqual(new long[] { 2, 10 }, logits.shape);
    }

    [TestMethod]
    public void TorchvisionStateDictForAnotherHeadIsRejectedWithTheKeysNamed()
    {
        using var scope = NewDisposeScope();
        var path = WriteStateDict("resnet18-1000.pth", TorchvisionResNet18StateDict(numClasses: 1000));

        var model = new ResNet(ResNetArchitecture.ResNet18(numClasses: 10));
        var error = Assert.Throws<StateDictMismatchException>(() => ModuleWeights.LoadFile(model, path));

        CollectionAssert.AreEquivalent(new[] { "fc.weight: module Float32[10, 512], file Float32[1000, 512]", "fc.bias: module Float32[10], file Float32[1000]" }, error.MismatchedKeys.ToArray());
        StringAssert.Contains(error.Message, path);
    }
}
