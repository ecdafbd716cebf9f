using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.LayerMasking.Engine;
using static Microsoft.ML.Masking.Tests.LayerMasking.TestNetworks;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.LayerMasking;

/// <summary>
/// TorchSharp turns a number into a native Scalar whose finalizer frees it, and does not keep it alive across the
/// native call; a garbage collection on another thread mid-call then frees the Scalar while libtorch reads it
/// ("Expected false to be true ... toFloat", or a wrong number). The engine passes only Scalars it keeps alive, so
/// its results must not change while another thread collects garbage without pause.
/// </summary>
[TestClass]
public sealed class ConcurrentGarbageCollectionTests
{
    private static readonly MaskingMethod[] Methods =
        [MaskingMethod.LayerMasking, MaskingMethod.GreySmoothed, MaskingMethod.MeanColor, MaskingMethod.Blur, MaskingMethod.NeighbourPadding];

    [TestMethod]
    public void MaskedForwardPassesGiveTheSameLogitsWhileAnotherThreadCollectsGarbage()
    {
        using var noGrad = no_grad(); // the inference path, as ML.NET runs it
        var network = SmallBasic(inputSize: 8);
        var classifiers = Methods.Select(m => new MaskedClassifier(network, m, ChannelNormalization.Identity(3))).ToArray();
        using var x = Images(2, 3, 8, seed: 1);
        using var keep = PatchMasks(2, 8, 2, 0.5, seed: 2);
        var expected = classifiers.Select(c => c.Forward(x, keep).Logits).ToArray();

        using var stop = new CancellationTokenSource();
        var collector = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        });
        int passes = 0;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            // At least 4 s and at least 20 passes: on a loaded machine the time alone may not reach enough passes.
            while (watch.Elapsed < TimeSpan.FromSeconds(4) || passes < 20)
            {
                for (int i = 0; i < classifiers.Length; i++)
                {
                    using var logits = classifiers[i].Forward(x, keep).Logits;
                    using var same = logits.eq(expected[i]).all();
                    Assert.IsTrue(same.item<bool>(), $"{Methods[i]}: logits changed on pass {passes}");
                }
                passes++;
            }
        }
        finally
        {
            stop.Cancel();
            collector.Wait();
            foreach (var e in expected) e.Dispose();
            foreach (var c in classifiers) c.Dispose();
        }
        Assert.IsGreaterThan(10, passes, "the stress ran long enough to mean something");
    }
}
