using Microsoft.ML.Masking.Attribution.Engine;
using Microsoft.ML.Masking.Ensemble.Engine;
using Microsoft.ML.Masking.Training;

namespace Microsoft.ML.Masking.Ensemble;

public sealed partial class DynamicMaskEnsembleTrainer
{
    /// <summary>
    /// Options of <see cref="DynamicMaskEnsembleTrainer"/>. The defaults train three members of the ResNet trainer's
    /// default network with adversarial feature distillation (ε = 0.03 in pixel units, 10 PGD steps with momentum 0.9,
    /// λ = 1, the top 25 % of channels) and learned gates, averaging the members' probabilities.
    /// </summary>
    public sealed class Options
    {
        /// <summary>The label column: a key type (use <c>MapValueToKey</c> for other labels). Default: "Label".</summary>
        public string LabelColumnName { get; set; } = "Label";

        /// <summary>The image column: a planar float vector (channels × height × width), as ExtractPixels writes it. Default: "Image".</summary>
        public string ImageColumnName { get; set; } = "Image";

        /// <summary>Output: the aggregated class probabilities, one per class. Default: "Score".</summary>
        public string ScoreColumnName { get; set; } = "Score";

        /// <summary>Output: the predicted class (argmax of Score), a key with the label's key values. Default: "PredictedLabel".</summary>
        public string PredictedLabelColumnName { get; set; } = "PredictedLabel";

        /// <summary>Output: the maximum of Score. Higher = more likely a known class. Default: "MSP".</summary>
        public string MaximumSoftmaxProbabilityColumnName { get; set; } = "MSP";

        /// <summary>Output: −logsumexp of the weighted mean of the members' logits. Higher = more likely unknown. Default: "Energy".</summary>
        public string EnergyColumnName { get; set; } = "Energy";

        /// <summary>
        /// Output: the members' mutual information (entropy of Score minus the weighted mean of the members' entropies),
        /// ≥ 0, their disagreement. Higher = more likely unknown. Default: "MutualInformation".
        /// </summary>
        public string MutualInformationColumnName { get; set; } = "MutualInformation";

        /// <summary>Output: the weighted mean of the members' energies; never above Energy. Higher = more likely unknown. Default: "MemberAveragedEnergy".</summary>
        public string MemberAveragedEnergyColumnName { get; set; } = "MemberAveragedEnergy";

        /// <summary>
        /// Output: the mean of 1 − gate over the channels of members 1, 2, …, in [0, 1); 0 with one member or without
        /// gating. Higher = the earlier members closed more of the later members' features for this input. Default: "GateClosure".
        /// </summary>
        public string GateClosureColumnName { get; set; } = "GateClosure";

        /// <summary>
        /// Output: every member's gate (member 0's is all ones), an explanation per row: [members, channels] for channel
        /// gating, [members, h, w] of the last feature map for spatial gating. Default: "Gates".
        /// </summary>
        public string GatesColumnName { get; set; } = "Gates";

        /// <summary>
        /// How each member's network is built and trained: architecture, optimiser, learning rate and schedule, epochs,
        /// batch size, augmentation, early stopping. Member 0 is trained exactly as <see cref="ResNetTrainer"/> trains
        /// with these options and <see cref="Seed"/>. Its column names, seed, validation set, checkpoint, threads and
        /// cancellation are not used (set them here); setting its <c>CheckpointPath</c> or <c>ValidationSet</c> is an
        /// error. Default: the ResNet trainer's defaults.
        /// </summary>
        public ResNetTrainer.Options Member { get; set; } = new();

        /// <summary>Members, trained one after another (1 = a single ordinary classifier). Default: 3.</summary>
        public int MemberCount { get; set; } = 3;

        /// <summary>
        /// L∞ budget of the distilled examples, in the image column's pixel units (0–1 for ExtractPixels with
        /// <c>scaleImage: 1/255f</c> and the library's loaders). 0 leaves the images unchanged. Default: 0.03.
        /// </summary>
        public double Epsilon { get; set; } = 0.03;

        /// <summary>PGD steps per distilled batch. Default: 10.</summary>
        public int AttackSteps { get; set; } = 10;

        /// <summary>PGD step size in pixel units. Default: null, meaning 2.5 · <see cref="Epsilon"/> / <see cref="AttackSteps"/>.</summary>
        public double? AttackStepSize { get; set; }

        /// <summary>Momentum of the accumulated, normalised PGD gradient (MI-FGSM), in [0, 1]. Default: 0.9.</summary>
        public double AttackMomentum { get; set; } = 0.9;

        /// <summary>
        /// λ: weight of the cross-entropy on distilled examples (loss = CE(clean) + λ·CE(distilled)). 0 turns distillation
        /// off (no attack is run: the "no distillation" ablation). Default: 1.
        /// </summary>
        public double DistillationWeight { get; set; } = 1;

        /// <summary>Share of an earlier member's channels, by recorded importance, that distillation targets, in (0, 1]. Default: 0.25.</summary>
        public double ImportantChannelShare { get; set; } = 0.25;

        /// <summary>
        /// How each member's per-channel importance at its last feature map is recorded after it is trained (the record
        /// distillation takes each earlier member's top channels from, saved with the model): the exact GAP + linear
        /// contribution, or the attribution catalog's layer Integrated Gradients or GradientSHAP at the member's gated
        /// last feature map, summed over positions and averaged over the training data. Either way the true class's logit
        /// is explained. Default: <see cref="ChannelImportanceMethod.Exact"/>.
        /// </summary>
        public ChannelImportanceMethod ImportanceMethod { get; set; } = ChannelImportanceMethod.Exact;

        /// <summary>
        /// Baseline of the layer attributions (<see cref="ImportanceMethod"/> other than Exact).
        /// <see cref="AttributionBaseline.Zero"/> is the zero feature map (then layer IG equals the exact contribution,
        /// since the head is linear); Black, Mean and Uniform are images whose feature maps (gate applied) the path
        /// starts from, so the importance is relative to what the member sees in that image. Default: <see cref="AttributionBaseline.Zero"/>.
        /// </summary>
        public AttributionBaseline ImportanceBaseline { get; set; } = AttributionBaseline.Zero;

        /// <summary>Integration steps of layer Integrated Gradients (Gauss–Legendre; the head is cheap, only it is integrated), at least 1. Default: 50.</summary>
        public int ImportanceSteps { get; set; } = 50;

        /// <summary>Draws per image of layer GradientSHAP, at least 1. Default: 20.</summary>
        public int ImportanceSamples { get; set; } = 20;

        /// <summary>
        /// σ of the input noise of layer GradientSHAP, as a fraction of each image's pixel range (Captum's <c>stdevs</c>),
        /// ≥ 0. Default: 0.
        /// </summary>
        public double ImportanceNoiseFraction { get; set; }

        /// <summary>How members 1, 2, … are gated. Default: <see cref="EnsembleGating.Learned"/>.</summary>
        public EnsembleGating Gating { get; set; } = EnsembleGating.Learned;

        /// <summary>
        /// θ of <see cref="EnsembleGating.FixedSpatial"/>: the earlier members' mean evidence concentration at which a
        /// position's gate is ½ (1 = their positive evidence spread evenly over the map, h·w = all of it at that one
        /// position), &gt; 0. Default: 2 (a position holding twice its even share is half closed).
        /// </summary>
        public double SpatialGateThreshold { get; set; } = 2;

        /// <summary>
        /// T of <see cref="EnsembleGating.FixedSpatial"/>: the gate is sigmoid((θ − concentration)/T); smaller is sharper,
        /// &gt; 0. With the defaults a position of even evidence keeps sigmoid(4) = 0.982 (open), one with four times its
        /// share sigmoid(−8) = 0.0003 (closed). Default: 0.25.
        /// </summary>
        public double SpatialGateTemperature { get; set; } = 0.25;

        /// <summary>Hidden units of each gating network (<see cref="EnsembleGating.Learned"/>). Default: 32.</summary>
        public int GateHiddenUnits { get; set; } = 32;

        /// <summary>
        /// Initial bias of each gate's output, so every gate starts at sigmoid(bias): 2 gives 0.88, mostly open, with
        /// the sigmoid's slope at 0.105 so the gating network can learn (at 6 the gate starts at 0.9975 but the slope
        /// is 0.0025 and, in the issue-12 runs, the gates never moved). Default: 2.
        /// </summary>
        public double GateInitialBias { get; set; } = 2;

        /// <summary>How the members' probabilities are combined. Default: <see cref="EnsembleAggregation.Mean"/>.</summary>
        public EnsembleAggregation Aggregation { get; set; } = EnsembleAggregation.Mean;

        /// <summary>
        /// Seed of everything random: member 0 uses it as is (so it equals a ResNet trained with this seed), member i a
        /// seed mixed from it and i. Default: 0.
        /// </summary>
        public int Seed { get; set; }

        /// <summary>Data with the training data's columns, scored after every epoch and used for accuracy weighting. Default: null.</summary>
        public IDataView? ValidationSet { get; set; }

        /// <summary>
        /// A folder for one checkpoint per member (member-0.ckpt, …). Training resumes from them: finished members are
        /// restored, an interrupted one resumes after its last finished epoch. Default: null (no checkpoints).
        /// </summary>
        public string? CheckpointDirectory { get; set; }

        /// <summary>Threads TorchSharp uses while training (process-wide while it runs; restored after). Default: null, leave the setting alone.</summary>
        public int? NumberOfThreads { get; set; }

        /// <summary>Images per forward pass when the fitted ensemble scores data. Default: 256.</summary>
        public int InferenceBatchSize { get; set; } = 256;

        /// <summary>Checked between batches, like <c>mlContext.CancelExecution()</c>; either stops training with <see cref="OperationCanceledException"/>. Default: none.</summary>
        public CancellationToken CancellationToken { get; set; }

        /// <summary>The ResNet trainer's options for a member: <see cref="Member"/> with this ensemble's columns, data, threads and cancellation.</summary>
        internal ResNetTrainer.Options MemberOptions(int seed, string? checkpointPath)
        {
            var m = Member.Clone();
            m.LabelColumnName = LabelColumnName;
            m.ImageColumnName = ImageColumnName;
            m.Seed = seed;
            m.ValidationSet = ValidationSet;
            m.CheckpointPath = checkpointPath;
            m.NumberOfThreads = NumberOfThreads;
            m.CancellationToken = CancellationToken;
            m.InferenceBatchSize = InferenceBatchSize;
            return m;
        }

        internal ImportanceSettings Importance =>
            new(ImportanceMethod, ImportanceBaseline, ImportanceSteps, ImportanceSamples, ImportanceNoiseFraction, Seed);

        internal double EffectiveStepSize => AttackStepSize ?? 2.5 * Epsilon / AttackSteps;

        internal void Validate()
        {
            foreach (var (name, value) in new[]
            {
                (nameof(LabelColumnName), LabelColumnName), (nameof(ImageColumnName), ImageColumnName),
                (nameof(ScoreColumnName), ScoreColumnName), (nameof(PredictedLabelColumnName), PredictedLabelColumnName),
                (nameof(MaximumSoftmaxProbabilityColumnName), MaximumSoftmaxProbabilityColumnName), (nameof(EnergyColumnName), EnergyColumnName),
                (nameof(MutualInformationColumnName), MutualInformationColumnName), (nameof(MemberAveragedEnergyColumnName), MemberAveragedEnergyColumnName),
                (nameof(GateClosureColumnName), GateClosureColumnName), (nameof(GatesColumnName), GatesColumnName),
            })
                Require(!string.IsNullOrWhiteSpace(value), name, "must name a column");
            Require(Member is not null, nameof(Member), "must be set");
            Require(Member!.CheckpointPath is null, "Member.CheckpointPath", "must be null; set CheckpointDirectory instead");
            Require(Member.ValidationSet is null, "Member.ValidationSet", "must be null; set ValidationSet instead");
            MemberOptions(Seed, null).Validate();
            Require(MemberCount >= 1, nameof(MemberCount), $"must be at least 1 (got {MemberCount})");
            Require(Epsilon >= 0 && double.IsFinite(Epsilon), nameof(Epsilon), $"must be a finite number ≥ 0 (got {Epsilon})");
            Require(AttackSteps >= 1, nameof(AttackSteps), "must be at least 1");
            Require(AttackStepSize is null || (AttackStepSize > 0 && double.IsFinite(AttackStepSize.Value)), nameof(AttackStepSize), "must be positive");
            Require(AttackMomentum is >= 0 and <= 1, nameof(AttackMomentum), "must be in [0, 1]");
            Require(DistillationWeight >= 0 && double.IsFinite(DistillationWeight), nameof(DistillationWeight), "must be a finite number ≥ 0");
            Require(ImportantChannelShare > 0 && ImportantChannelShare <= 1, nameof(ImportantChannelShare), $"must be in (0, 1] (got {ImportantChannelShare})");
            Require(Enum.IsDefined(ImportanceMethod), nameof(ImportanceMethod), $"must be one of {string.Join(", ", Enum.GetNames<ChannelImportanceMethod>())} (got {ImportanceMethod})");
            Require(Enum.IsDefined(ImportanceBaseline), nameof(ImportanceBaseline), $"must be one of {string.Join(", ", Enum.GetNames<AttributionBaseline>())} (got {ImportanceBaseline})");
            Require(ImportanceSteps >= 1, nameof(ImportanceSteps), $"must be at least 1 (got {ImportanceSteps})");
            Require(ImportanceSamples >= 1, nameof(ImportanceSamples), $"must be at least 1 (got {ImportanceSamples})");
            Require(ImportanceNoiseFraction >= 0 && double.IsFinite(ImportanceNoiseFraction), nameof(ImportanceNoiseFraction),
                $"must be a finite number ≥ 0 (got {ImportanceNoiseFraction})");
            Require(GateHiddenUnits >= 1, nameof(GateHiddenUnits), "must be at least 1");
            Require(Enum.IsDefined(Gating), nameof(Gating), $"must be one of {string.Join(", ", Enum.GetNames<EnsembleGating>())} (got {Gating})");
            Require(SpatialGateThreshold > 0 && double.IsFinite(SpatialGateThreshold), nameof(SpatialGateThreshold),
                $"must be a finite number > 0 (got {SpatialGateThreshold})");
            Require(SpatialGateTemperature > 0 && double.IsFinite(SpatialGateTemperature), nameof(SpatialGateTemperature),
                $"must be a finite number > 0 (got {SpatialGateTemperature})");
            Require(double.IsFinite(GateInitialBias), nameof(GateInitialBias), "must be finite");
            Require(Aggregation != EnsembleAggregation.ValidationAccuracyWeighted || ValidationSet is not null, nameof(Aggregation), "ValidationAccuracyWeighted needs a ValidationSet");
            Require(NumberOfThreads is null or >= 1, nameof(NumberOfThreads), "must be at least 1");
            Require(InferenceBatchSize >= 1, nameof(InferenceBatchSize), "must be at least 1");
        }

        private static void Require(bool condition, string option, string requirement)
        {
            if (!condition)
                throw new ArgumentException($"DynamicMaskEnsembleTrainer.Options.{option} {requirement}.", option);
        }
    }
}
