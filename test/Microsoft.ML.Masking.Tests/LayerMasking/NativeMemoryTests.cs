using Microsoft.ML.Masking.Core;
using Microsoft.ML.Data;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.LayerMasking.Engine;
using Microsoft.ML.Masking.Tests.TestDoubles;
using static Microsoft.ML.Masking.Tests.LayerMasking.TestNetworks;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.LayerMasking;

/// <summary>Long runs must not grow native memory: every batch's tensors are freed.</summary>
[TestClass]
public sealed class NativeMemoryTests
{
    private const int Side = 32;

    public sealed class Row
    {
        [VectorType(3 * Side * Side)] public float[] Pixels { get; set; } = [];
        [VectorType(Side * Side)] public float[] Mask { get; set; } = [];
    }

    private static long ResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    [TestMethod]
    public void RepeatedForwardPassesAndPipelineRunsDoNotGrowResidentMemory()
    {
        var network = SmallBasic();
        var random = new Random(1);
        var rows = Enumerable.Range(0, 64).Select(i => new Row
        {
            Pixels = Enumerable.Range(0, 3 * Side * Side).Select(_ => (float)random.NextDouble()).ToArray(),
            Mask = Enumerable.Range(0, Side * Side).Select(_ => random.NextDouble() < 0.5 ? 0f : 1f).ToArray(),
        }).ToArray();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(rows);
        using var transformer = ml.Transforms.LayerMask(new LayerMaskingOptions
        {
            Classifier = ImageClassifier.FromModule(network, ChannelNormalization.Identity(3), new Microsoft.ML.Masking.Data.ImageShape(3, Side, Side)),
            ImageColumnName = "Pixels", BatchSize = 16, FeaturesColumnName = "Features",
        }).Fit(data);
        using var classifier = new MaskedClassifier(network, MaskingMethod.LayerMasking, ChannelNormalization.Identity(3));
        var x = Images(16, 3, Side, seed: 2);
        var keep = PatchMasks(16, Side, 4, 0.5, seed: 3);

        using var noGrad = no_grad(); // the inference path, as the transformer runs it
        void Round()
        {
            TestData.Vectors(transformer.Transform(data), "Score");
            for (int i = 0; i < 4; i++)
            {
                var r = classifier.Forward(x, keep);
                r.Logits.Dispose();
                r.Features?.Dispose();
            }
        }

        // The allocator keeps freed blocks for reuse, so resident memory first climbs to a plateau; warm up past it.
        for (int i = 0; i < 15; i++) Round();
        long before = ResidentBytes();
        long liveBefore = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 40; i++) Round();
        long growth = ResidentBytes() - before;
        Assert.AreEqual(liveBefore, DisposeScopeManager.Statistics.ThreadTotalLiveCount, "live tensors after 40 more rounds");
        // 40 rounds move ~1.5 GB of tensors through the allocator; a leak of even one batch input per round would add > 25 MB.
        Assert.IsLessThan(25L * 1024 * 1024, growth, $"resident memory grew by {growth / (1024 * 1024.0):F1} MB");
    }
}
