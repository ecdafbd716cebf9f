using Microsoft.ML.Masking.Ensemble;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Tests.TestDoubles;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Ensemble;

/// <summary>Tiny ensembles for fast tests: one-block eight-channel members, one epoch, three PGD steps, two threads.</summary>
internal static class EnsembleFixtures
{
    /// <summary>A one-block, eight-channel ResNet for 3-channel 16×16 images of 4 classes (last map 16×16).</summary>
    public static readonly ResNetArchitecture TinyMember = new() { Layers = [1], BaseWidth = 8, SmallImageStem = true, InputChannels = 3, NumClasses = 4 };

    /// <summary><paramref name="count"/> shape images (<see cref="TrainingFixtures.Shapes"/>) as a raw [count, 3, 16, 16] tensor.</summary>
    public static Tensor Images(int count, long seed)
    {
        var images = TestData.Vectors(TrainingFixtures.Shapes(new MLContext(1), count, seed), "Image");
        return tensor(images.SelectMany(v => v).ToArray(), [count, 3, 16, 16]);
    }

    public static DynamicMaskEnsembleTrainer.Options Options(int members = 2)
    {
        var member = TrainingFixtures.TinyOptions();
        member.Epochs = 1;
        member.NumberOfThreads = null;
        return new DynamicMaskEnsembleTrainer.Options
        {
            Member = member, MemberCount = members, AttackSteps = 3, Epsilon = 0.05, NumberOfThreads = 2, Seed = 5,
        };
    }
}
