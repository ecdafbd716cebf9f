using Microsoft.ML.Masking.Ensemble;
using Microsoft.ML.Masking.Tests.TestDoubles;

namespace Microsoft.ML.Masking.Tests.Ensemble;

/// <summary>Tiny ensembles for fast tests: one-block eight-channel members, one epoch, three PGD steps, two threads.</summary>
internal static class EnsembleFixtures
{
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
