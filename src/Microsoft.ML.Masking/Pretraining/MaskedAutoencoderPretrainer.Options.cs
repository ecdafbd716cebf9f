using Microsoft.ML.Masking.Pretraining.Engine;
using Microsoft.ML.Masking.Training;

namespace Microsoft.ML.Masking.Pretraining;

public sealed partial class MaskedAutoencoderPretrainer
{
    /// <summary>
    /// Options of <see cref="MaskedAutoencoderPretrainer"/>. The defaults pre-train a small ViT masked autoencoder
    /// (4 px patches, 6-block encoder of width 128, 2-block decoder of width 64, 75 % of the patches removed) with
    /// adversarial masking: α ramps from 0 to 0.5 over training, as hard-patch mining (Wang et al., CVPR 2023) does.
    /// </summary>
    public sealed class Options
    {
        /// <summary>The image column: planar float vector of channels × height × width values. Default: "Image".</summary>
        public string ImageColumnName { get; set; } = "Image";

        /// <summary>The output embedding column (vector of <see cref="MaskedAutoencoderArchitecture.EncoderWidth"/> floats). Default: "Embedding".</summary>
        public string EmbeddingColumnName { get; set; } = "Embedding";

        /// <summary>Optional output column of the masking network's per-pixel scores (height × width floats in (0, 1)); adversarial masking only. Default: null (none).</summary>
        public string? ScoreMapColumnName { get; set; }

        /// <summary>
        /// Optional output column of the reconstruction (channels × height × width, in the input's pixel scale): visible
        /// patches as they are, removed ones as the decoder predicts them, under the mask of <see cref="MaskColumnName"/>.
        /// Default: null (none).
        /// </summary>
        public string? ReconstructionColumnName { get; set; }

        /// <summary>Optional output column of the mask behind the reconstruction (height × width: 1 removed at random, 2 picked by the masking network, 0 visible). Default: null (none).</summary>
        public string? MaskColumnName { get; set; }

        /// <summary>The image layout. Default: null, from the column's dimensions or inferred for square one- or three-channel images.</summary>
        public Data.ImageShape? ImageShape { get; set; }

        /// <summary>
        /// Sizes of the autoencoder; <see cref="MaskedAutoencoderArchitecture.Channels"/>, <see cref="MaskedAutoencoderArchitecture.ImageHeight"/>
        /// and <see cref="MaskedAutoencoderArchitecture.ImageWidth"/> are taken from the data. Default: the architecture's defaults.
        /// </summary>
        public MaskedAutoencoderArchitecture Architecture { get; set; } = new();

        /// <summary>Random (MAE) or adversarial masking. Default: <see cref="MaskingStrategy.Adversarial"/>.</summary>
        public MaskingStrategy Masking { get; set; } = MaskingStrategy.Adversarial;

        /// <summary>Share of the patches removed from every image, strictly between 0 and 1. Default: 0.75 (MAE).</summary>
        public double MaskRatio { get; set; } = 0.75;

        /// <summary>α at the end of its ramp: the share of the removed patches the masking network chooses, in [0, 1]. Default: 0.5.</summary>
        public double MaxAdversarialShare { get; set; } = 0.5;

        /// <summary>Fraction of the training steps over which α ramps linearly from 0 to <see cref="MaxAdversarialShare"/>, in [0, 1]; 0 starts at the maximum. Default: 1.</summary>
        public double AdversarialShareRamp { get; set; } = 1.0;

        /// <summary>Which patches may count as adversarial (top scores, the seed's fixed threshold, or its dynamic one). Default: <see cref="AdversarialPatchRule.TopScores"/>.</summary>
        public AdversarialPatchRule AdversarialRule { get; set; } = AdversarialPatchRule.TopScores;

        /// <summary>The threshold of <see cref="AdversarialPatchRule.AboveThreshold"/>, strictly between 0 and 1. Default: 0.5.</summary>
        public double ScoreThreshold { get; set; } = 0.5;

        /// <summary>Temperature τ of the selection distribution softmax(logit(score) / τ) and of its Gumbel-top-k sampling; positive. Default: 0.25.</summary>
        public double SelectionTemperature { get; set; } = 0.25;

        /// <summary>λ, the weight of the adversarial term; at least 0. Default: 1.</summary>
        public double AdversarialWeight { get; set; } = 1.0;

        /// <summary>Weight of the ADIOS-style size penalty on each image's mean score; at least 0. Default: 0.1.</summary>
        public double SizePenaltyWeight { get; set; } = 0.1;

        /// <summary>Weight of the diversity penalty against one pattern for all images; at least 0. Default: 1.</summary>
        public double DiversityPenaltyWeight { get; set; } = 1.0;

        /// <summary>What the masking network is trained for; <see cref="AdversarialObjective.SeedLiteral"/> is an ablation. Default: maximise the picked patches' error.</summary>
        public AdversarialObjective Objective { get; set; } = AdversarialObjective.MaximizeReconstructionError;

        /// <summary>Reconstruct per-patch normalised pixels (MAE's norm_pix_loss). Default: false.</summary>
        public bool NormalizePixelTargets { get; set; }

        /// <summary>Hidden channels of the masking network's first two convolutions (the seed leaves the width open; 8 keeps its cost small next to the autoencoder's); at least 1. Default: 8.</summary>
        public int MaskingNetworkChannels { get; set; } = 8;

        /// <summary>How the embedding is pooled from the encoder's tokens. Default: <see cref="EmbeddingPooling.MeanOfPatchTokens"/>.</summary>
        public EmbeddingPooling Pooling { get; set; } = EmbeddingPooling.MeanOfPatchTokens;

        /// <summary>Passes over the training data; at least 1. Default: 10.</summary>
        public int Epochs { get; set; } = 10;

        /// <summary>Images per step; at least 2. Default: 128.</summary>
        public int BatchSize { get; set; } = 128;

        /// <summary>Peak AdamW learning rate of the autoencoder (after warm-up, cosine decay to 0). Default: 1e-3.</summary>
        public double LearningRate { get; set; } = 1e-3;

        /// <summary>AdamW learning rate of the masking network (same schedule). Default: 1e-3.</summary>
        public double MaskingNetworkLearningRate { get; set; } = 1e-3;

        /// <summary>Decoupled weight decay of the autoencoder's weight matrices. Default: 0.05 (MAE).</summary>
        public double WeightDecay { get; set; } = 0.05;

        /// <summary>Epochs of linear warm-up; at least 0 and below <see cref="Epochs"/> (or 0). Default: 1.</summary>
        public int WarmupEpochs { get; set; } = 1;

        /// <summary>Seed of the initial weights, the shuffle and every mask. Default: 0.</summary>
        public int Seed { get; set; }

        /// <summary>TorchSharp threads while training (process-wide for the run, restored after); null leaves the setting alone. Default: null.</summary>
        public int? NumberOfThreads { get; set; }

        /// <summary>Checkpoint file, resumed from when it exists and rewritten atomically every <see cref="CheckpointEveryEpochs"/> epochs. Default: null (none).</summary>
        public string? CheckpointPath { get; set; }

        /// <summary>Epochs between checkpoints; at least 1. Default: 1.</summary>
        public int CheckpointEveryEpochs { get; set; } = 1;

        /// <summary>Rows per forward pass when the fitted transformer maps data. Default: 256.</summary>
        public int InferenceBatchSize { get; set; } = 256;

        /// <summary>Per-channel normalisation before both networks; null measures it on the training data. Default: null.</summary>
        public Core.ChannelNormalization? Normalization { get; set; }

        /// <summary>Cancels training between steps (besides <c>mlContext.CancelExecution()</c>). Default: none.</summary>
        public CancellationToken CancellationToken { get; set; }

        internal MaskingSettings ToMaskingSettings() => new()
        {
            MaskRatio = MaskRatio, Masking = Masking, MaxAdversarialShare = MaxAdversarialShare, AdversarialShareRamp = AdversarialShareRamp,
            AdversarialRule = AdversarialRule, ScoreThreshold = ScoreThreshold, SelectionTemperature = SelectionTemperature,
            AdversarialWeight = AdversarialWeight, SizePenaltyWeight = SizePenaltyWeight, DiversityPenaltyWeight = DiversityPenaltyWeight,
            Objective = Objective, NormalizePixelTargets = NormalizePixelTargets, MaskingNetworkChannels = MaskingNetworkChannels,
        };

        /// <summary>Checks every option; the message names it.</summary>
        internal void Validate()
        {
            foreach (var (name, value) in new[] { (nameof(ImageColumnName), ImageColumnName), (nameof(EmbeddingColumnName), EmbeddingColumnName) })
                if (string.IsNullOrWhiteSpace(value))
                    throw new ArgumentException($"Option {name} must name a column.", name);
            ToMaskingSettings().Validate();
            if (Masking == MaskingStrategy.Random && ScoreMapColumnName is not null)
                throw new ArgumentException($"Option {nameof(ScoreMapColumnName)} needs a masking network; set {nameof(Masking)} to {nameof(MaskingStrategy.Adversarial)} or leave it null.", nameof(ScoreMapColumnName));
            ArgumentNullException.ThrowIfNull(Architecture, nameof(Architecture));
            Positive(Epochs, nameof(Epochs));
            if (BatchSize < 2) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"Option {nameof(BatchSize)} must be at least 2.");
            Positive(CheckpointEveryEpochs, nameof(CheckpointEveryEpochs));
            Positive(InferenceBatchSize, nameof(InferenceBatchSize));
            Rate(LearningRate, nameof(LearningRate));
            Rate(MaskingNetworkLearningRate, nameof(MaskingNetworkLearningRate));
            if (!(WeightDecay >= 0) || double.IsInfinity(WeightDecay))
                throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, $"Option {nameof(WeightDecay)} must be a finite number at least 0.");
            if (WarmupEpochs < 0 || (WarmupEpochs > 0 && WarmupEpochs >= Epochs))
                throw new ArgumentOutOfRangeException(nameof(WarmupEpochs), WarmupEpochs, $"Option {nameof(WarmupEpochs)} must be 0 or less than {nameof(Epochs)} ({Epochs}).");
            if (NumberOfThreads is < 1)
                throw new ArgumentOutOfRangeException(nameof(NumberOfThreads), NumberOfThreads, $"Option {nameof(NumberOfThreads)} must be at least 1 or null.");
        }

        private static void Positive(int value, string name)
        {
            if (value < 1) throw new ArgumentOutOfRangeException(name, value, $"Option {name} must be at least 1.");
        }

        private static void Rate(double value, string name)
        {
            if (!(value > 0) || double.IsInfinity(value))
                throw new ArgumentOutOfRangeException(name, value, $"Option {name} must be a positive finite number.");
        }

        internal OptimizerKind Optimizer => OptimizerKind.AdamW;
    }
}
