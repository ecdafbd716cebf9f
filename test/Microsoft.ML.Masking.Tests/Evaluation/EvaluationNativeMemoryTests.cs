using Microsoft.ML.Masking.Core.Segmentation;
using Microsoft.ML.Masking.Evaluation;
using Microsoft.ML.Masking.LayerMasking;
using static Microsoft.ML.Masking.Tests.Evaluation.EvaluationTestData;
using TorchSharp;

namespace Microsoft.ML.Masking.Tests.Evaluation;

/// <summary>An evaluation leaves no tensor behind: per-batch tensors, generators and the folded weights of its classifiers are freed.</summary>
[TestClass]
public sealed class EvaluationNativeMemoryTests
{
    [TestMethod]
    public void EvaluatorsLeaveNoLiveTensors()
    {
        var ml = new MLContext(seed: 0);
        var network = Network();
        var data = Load(ml, Rows(network, 9));
        MaskingMethod[] methods = [MaskingMethod.LayerMasking, MaskingMethod.Noise, MaskingMethod.Blur];
        var evaluation = ml.MaskingEvaluation();
        void Round()
        {
            evaluation.EvaluateFeatureRemoval(data, new FeatureRemovalOptions
            {
                Classifier = Classifier(network), Methods = methods, Fractions = [0, 0.5, 1], BatchSize = 4,
                Segmentation = new SegmentationOptions { Kind = SegmentationKind.Superpixels, SuperpixelCount = 12 },
            });
            evaluation.EvaluateShapeBias(data, new ShapeBiasOptions { Classifier = Classifier(network), Methods = methods, BatchSize = 4 });
            evaluation.EvaluateMaskColorDependence(data, new MaskColorDependenceOptions
            {
                Classifier = Classifier(network), Methods = methods, BatchSize = 4, Segmentation = new SegmentationOptions { PatchSize = 4 },
            });
        }

        Round();
        long liveBefore = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Round();
        Round();
        Assert.AreEqual(liveBefore, DisposeScopeManager.Statistics.ThreadTotalLiveCount, "live tensors after two more rounds of all three evaluators");
    }
}
