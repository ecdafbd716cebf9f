using Microsoft.ML.Masking.Models;

namespace Microsoft.ML.Masking.Training;

public sealed partial class ResNetTrainer
{
    /// <summary>
    /// Options of <see cref="ResNetTrainer"/>. The defaults train a small CIFAR-style ResNet (small-image stem,
    /// four stages of two basic blocks, 16 base channels) with SGD, Nesterov momentum, cosine decay after one
    /// warm-up epoch, random crops and horizontal flips: a sound start for 28–64 px images.
    /// </summary>
    public sealed class Options
    {
        /// <summary>The label column: a key type (use <c>MapValueToKey</c> for other labels). Default: "Label".</summary>
        public string LabelColumnName { get; set; } = "Label";

        /// <summary>
        /// The image column: a float vector of channels × height × width values, planar (as ExtractPixels writes
        /// it by default). Default: "Image".
        /// </summary>
        public string ImageColumnName { get; set; } = "Image";

        /// <summary>The output column of class probabilities (one float per class). Default: "Score".</summary>
        public string ScoreColumnName { get; set; } = "Score";

        /// <summary>The output column of the predicted class, a key with the label's key values. Default: "PredictedLabel".</summary>
        public string PredictedLabelColumnName { get; set; } = "PredictedLabel";

        /// <summary>
        /// The image layout. Default: null, meaning taken from the image column's dimensions ([C, H, W], which
        /// ExtractPixels and the library's loaders declare), or for a plain vector without dimensions inferred as a
        /// square image with one or three channels. When set, it must agree with the column's dimensions.
        /// </summary>
        public Data.ImageShape? ImageShape { get; set; }

        /// <summary>
        /// Depth, width, block kind and stem of the network. <see cref="ResNetArchitecture.InputChannels"/> and
        /// <see cref="ResNetArchitecture.NumClasses"/> are taken from the data and need not be set.
        /// Default: small-image stem, basic blocks, layers [2, 2, 2, 2], base width 16.
        /// </summary>
        public ResNetArchitecture Architecture { get; set; } = new() { Layers = [2, 2, 2, 2], BaseWidth = 16, SmallImageStem = true };

        /// <summary>
        /// Per-channel normalisation applied inside the model before the network. Default: null, meaning the mean and
        /// standard deviation of each channel measured on the training data.
        /// </summary>
        public Core.ChannelNormalization? Normalization { get; set; }

        /// <summary>The optimiser. Default: <see cref="OptimizerKind.SgdMomentum"/>.</summary>
        public OptimizerKind Optimizer { get; set; } = OptimizerKind.SgdMomentum;

        /// <summary>Peak learning rate (reached after the warm-up). Default: 0.1, for SGD at batch size 128; about 0.001–0.003 suits AdamW.</summary>
        public double LearningRate { get; set; } = 0.1;

        /// <summary>SGD momentum. Default: 0.9.</summary>
        public double Momentum { get; set; } = 0.9;

        /// <summary>Whether SGD uses Nesterov momentum. Default: true.</summary>
        public bool Nesterov { get; set; } = true;

        /// <summary>
        /// Weight decay of convolution and linear weights (never of biases or BatchNorm parameters): an L2 term for SGD,
        /// decoupled decay for AdamW. Default: 5e-4 (for SGD; AdamW usually wants about 0.05).
        /// </summary>
        public double WeightDecay { get; set; } = 5e-4;

        /// <summary>The learning-rate schedule after the warm-up. Default: <see cref="LearningRateScheduleKind.Cosine"/>.</summary>
        public LearningRateScheduleKind Schedule { get; set; } = LearningRateScheduleKind.Cosine;

        /// <summary>Epochs of linear warm-up from 0 to <see cref="LearningRate"/>. Default: 1.</summary>
        public int WarmupEpochs { get; set; } = 1;

        /// <summary>For the step schedule: the epochs (0-based) at whose start the rate is multiplied by <see cref="StepGamma"/>. Default: none.</summary>
        public int[] StepMilestones { get; set; } = [];

        /// <summary>For the step schedule: the factor applied at each milestone. Default: 0.1.</summary>
        public double StepGamma { get; set; } = 0.1;

        /// <summary>Label smoothing of the cross-entropy loss, in [0, 1). Default: 0.</summary>
        public double LabelSmoothing { get; set; }

        /// <summary>
        /// Random-crop augmentation: each training image is zero-padded by this many pixels on every side (before
        /// normalisation, so with black) and a crop of the original size is taken at a random offset. 0 turns it off.
        /// Default: 4.
        /// </summary>
        public int RandomCropPadding { get; set; } = 4;

        /// <summary>Whether each training image is mirrored left-right with probability ½. Default: true (turn off where mirroring changes the class).</summary>
        public bool HorizontalFlip { get; set; } = true;

        /// <summary>
        /// Probability that random erasing (Zhong et al., 2020; "cutout") blanks one rectangle of a training image to 0
        /// after normalisation, i.e. to the mean colour — the same value grey masking uses, which is why it interacts
        /// with missingness bias. Area 2–33 % of the image, aspect ratio 0.3–3.3. Default: 0 (off).
        /// </summary>
        public double RandomErasingProbability { get; set; }

        /// <summary>Images per training step. Default: 128. The last incomplete batch of each epoch is dropped, which keeps BatchNorm statistics sound.</summary>
        public int BatchSize { get; set; } = 128;

        /// <summary>Passes over the training data. Default: 10.</summary>
        public int Epochs { get; set; } = 10;

        /// <summary>
        /// Seed of the initial weights, the shuffling and the augmentation (each drawn from its own generator).
        /// The same seed, data, options and thread count give the same weights. Default: 0.
        /// </summary>
        public int Seed { get; set; }

        /// <summary>
        /// Data scored after every epoch, with the same columns as the training data (accuracy and loss are reported).
        /// Default: null.
        /// </summary>
        public IDataView? ValidationSet { get; set; }

        /// <summary>
        /// With a <see cref="ValidationSet"/>: stop after this many epochs without a better validation accuracy and keep
        /// the weights of the best epoch. 0 turns early stopping off. Default: 0.
        /// </summary>
        public int EarlyStoppingPatience { get; set; }

        /// <summary>
        /// A checkpoint file. When it exists, training resumes from it (it must have been written with the same options
        /// and data); while training, it is rewritten atomically every <see cref="CheckpointEveryEpochs"/> epochs, so a
        /// crash mid-write leaves the previous checkpoint intact. Default: null (no checkpoints).
        /// </summary>
        public string? CheckpointPath { get; set; }

        /// <summary>How often the checkpoint is written, in epochs. Default: 1.</summary>
        public int CheckpointEveryEpochs { get; set; } = 1;

        /// <summary>
        /// Threads TorchSharp uses while training, restored to the previous count when Fit returns or throws. libtorch's
        /// thread count is process-wide, so while training runs, other TorchSharp work in the process uses it too; the
        /// trainer changes it only when this is set. Results are reproducible for a fixed thread count.
        /// Default: null, leave TorchSharp's current setting alone.
        /// </summary>
        public int? NumberOfThreads { get; set; }

        /// <summary>Images per forward pass when the fitted model scores data. Default: 256.</summary>
        public int InferenceBatchSize { get; set; } = 256;

        /// <summary>
        /// Checked between batches, like the MLContext's own cancellation (<c>mlContext.CancelExecution()</c>); either
        /// stops training with <see cref="OperationCanceledException"/>, leaving the last checkpoint to resume from. Default: none.
        /// </summary>
        public CancellationToken CancellationToken { get; set; }

        /// <summary>A shallow copy (the architecture record and data views are shared), for trainers that train ResNets with these options.</summary>
        internal Options Clone() => (Options)MemberwiseClone();

        internal void Validate()
        {
            Require(!string.IsNullOrWhiteSpace(LabelColumnName), nameof(LabelColumnName), "must name a column");
            Require(!string.IsNullOrWhiteSpace(ImageColumnName), nameof(ImageColumnName), "must name a column");
            Require(!string.IsNullOrWhiteSpace(ScoreColumnName), nameof(ScoreColumnName), "must name a column");
            Require(!string.IsNullOrWhiteSpace(PredictedLabelColumnName), nameof(PredictedLabelColumnName), "must name a column");
            Require(Architecture is not null, nameof(Architecture), "must be set");
            Require(ImageShape is null || ImageShape.Value is { Channels: > 0, Height: > 0, Width: > 0 }, nameof(ImageShape), "needs positive channels, height and width");
            Require(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), "must be positive");
            Require(Momentum is >= 0 and < 1, nameof(Momentum), "must be in [0, 1)");
            Require(!Nesterov || Optimizer != OptimizerKind.SgdMomentum || Momentum > 0, nameof(Nesterov), "needs a positive Momentum");
            Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), nameof(WeightDecay), "must not be negative");
            Require(WarmupEpochs >= 0, nameof(WarmupEpochs), "must not be negative");
            Require(StepMilestones is not null && StepMilestones.All(m => m >= 0), nameof(StepMilestones), "must list non-negative epochs");
            Require(StepGamma > 0 && StepGamma <= 1, nameof(StepGamma), "must be in (0, 1]");
            Require(LabelSmoothing is >= 0 and < 1, nameof(LabelSmoothing), "must be in [0, 1)");
            Require(RandomCropPadding >= 0, nameof(RandomCropPadding), "must not be negative");
            Require(RandomErasingProbability is >= 0 and <= 1, nameof(RandomErasingProbability), "must be in [0, 1]");
            Require(BatchSize >= 2, nameof(BatchSize), "must be at least 2 (BatchNorm needs two images)");
            Require(Epochs >= 1, nameof(Epochs), "must be at least 1");
            Require(EarlyStoppingPatience >= 0, nameof(EarlyStoppingPatience), "must not be negative");
            Require(EarlyStoppingPatience == 0 || ValidationSet is not null, nameof(EarlyStoppingPatience), "needs a ValidationSet");
            Require(CheckpointEveryEpochs >= 1, nameof(CheckpointEveryEpochs), "must be at least 1");
            Require(NumberOfThreads is null or >= 1, nameof(NumberOfThreads), "must be at least 1");
            Require(InferenceBatchSize >= 1, nameof(InferenceBatchSize), "must be at least 1");
        }

        private static void Require(bool condition, string option, string requirement)
        {
            if (!condition)
                throw new ArgumentException($"ResNetTrainer.Options.{option} {requirement}.", option);
        }
    }
}
