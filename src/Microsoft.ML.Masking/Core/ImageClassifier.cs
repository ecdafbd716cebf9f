using Microsoft.ML.Masking.Core.Persistence;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.Internal;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Models.Onnx;
using Microsoft.ML.Runtime;
using Conv2d = TorchSharp.Modules.Conv2d;
using Linear = TorchSharp.Modules.Linear;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Core;

/// <summary>
/// One description of an image classifier, accepted everywhere a model is taken (<c>mlContext.Transforms.LayerMask</c>,
/// the masking evaluators, attribution): the network, the per-channel normalisation it was trained with, the image
/// layout (C, H, W) it reads, its class names and the device it runs on. Components take pixels (as ExtractPixels
/// writes them) and apply <see cref="Normalization"/> themselves, so "black" and "grey" mean what they say.
/// </summary>
/// <remarks>
/// <para>Make one from a trained classifier (<see cref="Microsoft.ML.Masking.Training.ResNetClassificationTransformer.Classifier"/>), from a
/// TorchSharp or TorchVision module (<see cref="FromModule"/>), from a weights file and an architecture
/// (<see cref="FromWeights"/>), or from an ONNX file (<see cref="FromOnnx"/>, <see cref="FromOnnxResNet18"/>).</para>
/// <para>The network is used in place, never copied: components move it to their device and read its weights as
/// they are. A pipeline that holds it saves into model.zip when the network is a <see cref="ResNet"/> (its
/// <see cref="Architecture"/> is known), a TorchVision ResNet/ResNeXt/Wide-ResNet (saved as the <see cref="ResNet"/> with the same
/// parameter names, which it loads as), VGG, AlexNet or MobileNet, or imported from ONNX.</para>
/// </remarks>
public sealed class ImageClassifier
{
    private readonly string[]? _classNames;

    private ImageClassifier(nn.Module<Tensor, Tensor> network, ChannelNormalization normalization, ImageShape imageShape,
        IReadOnlyList<string>? classNames, Device? device, bool hasClassifierHead = true)
    {
        Network = network;
        HasClassifierHead = hasClassifierHead;
        Normalization = normalization;
        ImageShape = imageShape;
        Device = device;
        Architecture = (network as ResNet)?.Architecture;
        _classNames = classNames?.ToArray();
        Check();
        var head = LastLinear(network);
        FeatureCount = Architecture?.FeatureChannels
            ?? (network is OnnxNetwork { Graph.EndsInLinear: false } onnx ? onnx.OutputSize : head is null ? null : (int?)head.in_features);
        if (!hasClassifierHead)
        {
            if (_classNames is not null)
                throw new ArgumentException("A network without a classifier head has no classes: give no classNames.", "classNames");
            if (FeatureCount is null)
                throw new ArgumentException("A network without a classifier head must be a ResNet, an imported ONNX network or end in a Linear layer, so that its features are known.", "network");
            return;
        }
        ClassCount = Architecture?.NumClasses ?? (head is null ? null : (int?)head.out_features) ?? _classNames?.Length ?? throw new ArgumentException(
            "The network does not end in a Linear layer, so its class count is unknown: give classNames.", "classNames");
        if (_classNames is not null && _classNames.Length != ClassCount)
            throw new ArgumentException($"classNames has {_classNames.Length} names but the network has {ClassCount} classes.", "classNames");
    }

    /// <summary>The network: it takes a batch [N, C, H, W] normalised with <see cref="Normalization"/> and returns [N, classes] logits.</summary>
    public nn.Module<Tensor, Tensor> Network { get; }

    /// <summary>The per-channel normalisation the network expects; it also defines grey (0 after normalisation) and black.</summary>
    public ChannelNormalization Normalization { get; }

    /// <summary>The image layout the network reads: channels, height and width, planar and row-major (as ExtractPixels writes).</summary>
    public ImageShape ImageShape { get; }

    /// <summary>The class names in score order, or null when none were given (outputs then have no PredictedLabel key column).</summary>
    public IReadOnlyList<string>? ClassNames => _classNames;

    /// <summary>Number of classes (scores per image); 0 when the network has no classifier head (<see cref="HasClassifierHead"/>).</summary>
    public int ClassCount { get; }

    /// <summary>
    /// False for a backbone without a trained classifier (ML.NET's ImageNet ResNet-18 from <see cref="FromOnnxResNet18"/>):
    /// <c>LayerMask</c> then writes its pooled features (<see cref="FeatureCount"/> values) as the output column, and
    /// components that need class scores (the evaluators, attribution) refuse it. <see cref="WithLinearHead"/> adds one.
    /// </summary>
    public bool HasClassifierHead { get; }

    /// <summary>The device to run on; null means the one the MLContext chooses (its GPU settings, else the CPU).</summary>
    public Device? Device { get; }

    /// <summary>The architecture when <see cref="Network"/> is a <see cref="ResNet"/> (then a pipeline holding it saves into model.zip); null otherwise.</summary>
    public ResNetArchitecture? Architecture { get; }

    /// <summary>Width of the penultimate features (what enters the final Linear layer), when known.</summary>
    public int? FeatureCount { get; }

    /// <summary>Describes a TorchSharp or TorchVision module (for example <c>torchvision.models.resnet18()</c> with loaded weights).</summary>
    /// <param name="network">The network, used in place. It must be a CNN layer masking supports for <c>LayerMask</c>.</param>
    /// <param name="normalization">The normalisation it was trained with, for example <see cref="ChannelNormalization.ImageNet"/>
    /// for torchvision's pretrained weights, or <see cref="ChannelNormalization.Identity"/> when the pixels are already normalised.</param>
    /// <param name="imageShape">The layout of the image column it reads (channels, height, width).</param>
    /// <param name="classNames">The class names in score order; null for none. Required when the network does not end in a Linear layer.</param>
    /// <param name="device">Where to run it; null lets the MLContext choose.</param>
    /// <exception cref="ArgumentException">The normalisation, the shape, the network's input channels or the class names disagree (the message says which).</exception>
    public static ImageClassifier FromModule(nn.Module<Tensor, Tensor> network, ChannelNormalization normalization, ImageShape imageShape,
        IReadOnlyList<string>? classNames = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(normalization);
        return new ImageClassifier(network, normalization, imageShape, classNames, device);
    }

    /// <summary>
    /// Builds a <see cref="ResNet"/> of <paramref name="architecture"/> and loads <paramref name="weightsPath"/> into it
    /// (safetensors, or a PyTorch <c>state_dict</c> saved with <c>torch.save</c>, torchvision parameter names); strict:
    /// every key and shape must match.
    /// </summary>
    /// <param name="weightsPath">The weights file.</param>
    /// <param name="architecture">The network to build (depth, stem, classes, input channels).</param>
    /// <param name="normalization">The normalisation the weights were trained with (<see cref="ChannelNormalization.ImageNet"/> for torchvision's).</param>
    /// <param name="imageShape">The layout of the image column.</param>
    /// <param name="classNames">The class names in score order; null for none.</param>
    /// <param name="device">Where to run it; null lets the MLContext choose.</param>
    /// <param name="weightLoading">How the file's keys are matched with the network's (e.g. a backbone without its head,
    /// a prefix); null is strict.</param>
    /// <exception cref="FileNotFoundException">The weights file does not exist.</exception>
    /// <exception cref="StateDictMismatchException">The weights do not fit the architecture (the message lists the keys).</exception>
    /// <exception cref="ArgumentException">Only the stem differs (a 7×7 ImageNet stem against a 3×3 small-image one): the message says how to set
    /// <see cref="ResNetArchitecture.SmallImageStem"/>; the <see cref="StateDictMismatchException"/> is the inner exception.</exception>
    public static ImageClassifier FromWeights(string weightsPath, ResNetArchitecture architecture, ChannelNormalization normalization,
        ImageShape imageShape, IReadOnlyList<string>? classNames = null, Device? device = null, WeightLoadOptions? weightLoading = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(weightsPath);
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(normalization);
        architecture.Validate();
        if (!File.Exists(weightsPath))
            throw new FileNotFoundException($"Weights file '{weightsPath}' does not exist.", weightsPath);
        var network = new ResNet(architecture);
        try
        {
            ModuleWeights.LoadFile(network, weightsPath, weightLoading);
        }
        catch (StateDictMismatchException e) when (StemHint(e, architecture) is { } hint)
        {
            network.Dispose();
            throw new ArgumentException($"{e.Message} {hint}", nameof(architecture), e);
        }
        network.eval();
        return new ImageClassifier(network, normalization, imageShape, classNames, device);
    }

    /// <summary>
    /// Imports a CNN from an ONNX file (exported from PyTorch, CNTK, …) for layer masking and everything else that takes a
    /// classifier: the graph is read node by node into the engine's layers with the file's initialisers as weights, and the
    /// imported network's plain output is checked against ONNX Runtime's on a probe input before it is returned. A file
    /// ending in Gemm (or MatMul + Add), or one given as many <paramref name="classNames"/> as it has outputs, gives class
    /// scores; any other output (e.g. pooled features) makes a classifier without a head, whose <c>LayerMask</c> output is
    /// those features. The result saves into model.zip (the layer list in the header,
    /// the weights as safetensors); the ONNX file is not needed to load it.
    /// </summary>
    /// <remarks>
    /// <para>Opsets 7–21 of the default domain. Read: Conv (2-D; any kernel, stride, dilation and group, depthwise included;
    /// symmetric padding, or asymmetric padding whose symmetric reading gives the same output size for this image, which is
    /// then exact; auto_pad), BatchNormalization, Relu, Clip with constant bounds (ReLU6), Sigmoid, HardSigmoid (ONNX's α, β),
    /// HardSwish, Tanh, x·Sigmoid(x) (SiLU) and x·HardSigmoid(x), MaxPool, AveragePool, GlobalAveragePool, ReduceMean over
    /// the spatial axes, Add of two computed tensors (a residual connection: mask AND), Concat along the channels (mask AND),
    /// squeeze-and-excitation (a map times GlobalAveragePool → 1×1 Conv → activation → 1×1 Conv → activation of itself;
    /// the squeeze is the masked mean), Flatten, Reshape or Squeeze to one vector per image, Gemm, MatMul + Add, Dropout,
    /// Identity and Constant. The branches must nest (series-parallel: ResNets, MobileNets, Inception-style blocks, VGG);
    /// a graph whose branches cross (DenseNet as exported) is refused.</para>
    /// <para>Anything else — another op, a constant operand where a tensor is expected, broadcasting, layers after the
    /// global pool other than activations, Flatten and Gemm — fails with a <see cref="NotSupportedException"/> naming the
    /// ONNX node and its op type: nothing runs unmasked.</para>
    /// </remarks>
    /// <param name="onnxPath">The ONNX file.</param>
    /// <param name="normalization">The preprocessing the network expects, from pixels as the image column holds them
    /// (for example <see cref="ChannelNormalization.ImageNet"/> for torchvision-trained weights on 0–1 pixels).</param>
    /// <param name="imageShape">The image the network takes; null to read it from the file's input, which must then fix
    /// channels, height and width. Paddings are checked for this size.</param>
    /// <param name="classNames">Class names in score order; null for none. Not allowed for a network without a head.</param>
    /// <param name="device">Where to run it; null lets the MLContext choose.</param>
    /// <param name="tolerance">The largest difference to ONNX Runtime's output accepted on the probe input, relative to the
    /// output's largest magnitude. Default: 1e-4.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="NotSupportedException">An op, pattern or setting the engine cannot mask (the message names the ONNX
    /// node and op type), or a difference to ONNX Runtime above <paramref name="tolerance"/>.</exception>
    /// <exception cref="ArgumentException">The normalisation, image shape or class names disagree with the network.</exception>
    public static ImageClassifier FromOnnx(string onnxPath, ChannelNormalization normalization, ImageShape? imageShape = null,
        IReadOnlyList<string>? classNames = null, Device? device = null, double tolerance = 1e-4)
    {
        ArgumentNullException.ThrowIfNull(normalization);
        if (!(tolerance >= 0))
            throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "The tolerance must be zero or positive.");
        var (network, _) = OnnxNetwork.Import(onnxPath, imageShape, tolerance);
        try
        {
            // Class scores when the file ends in a Linear layer, or when class names are given for its outputs (SqueezeNet's
            // convolutional classifier ends in a pool); otherwise its output is features.
            bool scores = network.Graph.EndsInLinear || classNames is not null && classNames.Count == network.OutputSize;
            return new ImageClassifier(network, normalization, network.Graph.Input, classNames, device, hasClassifierHead: scores);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// ML.NET's ImageNet-trained ResNet-18 (NuGet package <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>, what
    /// <c>DnnFeaturizeImage</c> runs), imported by the general ONNX importer (<see cref="FromOnnx"/>: an <see cref="OnnxNetwork"/>,
    /// checked against ONNX Runtime on load) with its own preprocessing: RGB pixels on the
    /// 0–255 scale as ExtractPixels writes them by default (3×224×224), turned to BGR minus the package's per-pixel mean
    /// image. It has no classifier head: <c>LayerMask</c> yields its 512 pooled features; add a head trained on them
    /// with <see cref="WithLinearHead"/>.
    /// </summary>
    /// <param name="modelDirectory">The package's <c>DnnImageModels</c> folder (holding <c>ResNet18Onnx/ResNet18.onnx</c> and
    /// <c>ResNetPrepOnnx/ResNetPreprocess.onnx</c>); null for the one the package copies next to the application.</param>
    /// <param name="device">Where to run it; null lets the MLContext choose.</param>
    /// <param name="pixelMaximum">Full intensity in the image column: 255 for ExtractPixels' default (what
    /// <c>DnnFeaturizeImage</c> takes), 1 for pixels in 0–1 (<c>scaleImage: 1f / 255</c>, or the library's loaders). The
    /// normalisation rescales them to the network's 0–255 input.</param>
    /// <exception cref="FileNotFoundException">A model file is missing (the message names it and the package).</exception>
    /// <exception cref="NotSupportedException">A file is not the graph the importer knows (the message names the node).</exception>
    public static ImageClassifier FromOnnxResNet18(string? modelDirectory = null, Device? device = null, float pixelMaximum = 255f)
    {
        if (!(pixelMaximum > 0) || !float.IsFinite(pixelMaximum))
            throw new ArgumentOutOfRangeException(nameof(pixelMaximum), pixelMaximum, "Full intensity must be finite and positive (255 or 1).");
        modelDirectory ??= Path.Combine(AppContext.BaseDirectory, "DnnImageModels");
        string model = Path.Combine(modelDirectory, "ResNet18Onnx", "ResNet18.onnx");
        string preprocess = Path.Combine(modelDirectory, "ResNetPrepOnnx", "ResNetPreprocess.onnx");
        foreach (var file in new[] { model, preprocess })
            if (!File.Exists(file))
                throw new FileNotFoundException(
                    $"'{file}' does not exist. Reference the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 (it copies DnnImageModels next to the application) or pass its folder.", file);
        var normalization = Models.Onnx.OnnxResNetImporter.ReadMeanImagePreprocessing(preprocess);
        if (pixelMaximum != 255f)
        {
            // x·255/max − M = (x − M·max/255) / (max/255): the same input for pixels on another scale.
            float scale = pixelMaximum / 255f;
            var shape = normalization.MeanImageShape!.Value;
            normalization = new ChannelNormalization(new float[shape.Channels], Enumerable.Repeat(scale, shape.Channels).ToArray(),
                normalization.ChannelOrder, normalization.MeanImage!.Select(v => v * scale).ToArray(), shape);
        }
        // The general importer, checked against ONNX Runtime on a probe input; the preprocessing fixes the image size.
        var (network, _) = OnnxNetwork.Import(model, normalization.MeanImageShape, tolerance: 1e-4);
        return new ImageClassifier(network, normalization, normalization.MeanImageShape!.Value, classNames: null, device, hasClassifierHead: false);
    }

    /// <summary>
    /// This backbone with a linear classifier on its pooled features, logits = features · weightsᵀ + biases: for
    /// example the weights and biases of an ML.NET linear multiclass trainer (LbfgsMaximumEntropy,
    /// SdcaMaximumEntropy) trained on the features <c>LayerMask</c> writes for a headless classifier. The result is a
    /// new network that saves into model.zip, this one's weights copied: a <see cref="ResNet"/> with its <c>fc</c> replaced,
    /// or an <see cref="OnnxNetwork"/> with a Linear layer (Gemm) after its output (flattened).
    /// </summary>
    /// <param name="weights">One row of <see cref="FeatureCount"/> weights per class, in score order.</param>
    /// <param name="biases">One bias per class.</param>
    /// <param name="classNames">The class names in score order; null for none.</param>
    /// <exception cref="NotSupportedException">The network is neither a <see cref="ResNet"/> nor an imported ONNX network without a head.</exception>
    /// <exception cref="ArgumentException">The weights, biases and class names disagree in count or width.</exception>
    public ImageClassifier WithLinearHead(IReadOnlyList<float[]> weights, IReadOnlyList<float> biases, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(biases);
        if (Network is not ResNet and not OnnxNetwork { Graph.EndsInLinear: false })
            throw new NotSupportedException(
                $"A linear head can be put on a Microsoft.ML.Masking.Models.ResNet or on an imported ONNX network without one; this network is {Network.GetType().FullName}.");
        int features = FeatureCount!.Value;
        if (weights.Count == 0 || biases.Count != weights.Count)
            throw new ArgumentException($"A linear head needs one weight row and one bias per class; got {weights.Count} row(s) and {biases.Count} bias(es).", nameof(biases));
        if (weights.FirstOrDefault(w => w is null || w.Length != features) is { } bad)
            throw new ArgumentException($"Each weight row needs {features} values (the network's features); one has {bad?.Length ?? 0}.", nameof(weights));
        if (Network is OnnxNetwork onnx)
        {
            var headed = onnx.WithLinearHead(weights.SelectMany(w => w).ToArray(), biases.ToArray());
            return new ImageClassifier(headed, Normalization, ImageShape, classNames, Device);
        }
        var backbone = (ResNet)Network;
        var network = new ResNet(backbone.Architecture with { NumClasses = weights.Count });
        using (no_grad())
        {
            var source = backbone.state_dict();
            foreach (var (name, parameter) in network.state_dict())
                if (!name.StartsWith("fc.", StringComparison.Ordinal))
                    parameter.copy_(source[name]);
            var fc = network.state_dict();
            fc["fc.weight"].copy_(tensor(weights.SelectMany(w => w).ToArray(), [weights.Count, features]));
            fc["fc.bias"].copy_(tensor(biases.ToArray()));
        }
        network.eval();
        return new ImageClassifier(network, Normalization, ImageShape, classNames, Device);
    }

    /// <summary>The same classifier on another device (the network is moved there when a component uses it).</summary>
    public ImageClassifier OnDevice(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return new ImageClassifier(Network, Normalization, ImageShape, _classNames, device, HasClassifierHead);
    }

    /// <summary>The class count for <paramref name="component"/>, which needs class scores.</summary>
    /// <exception cref="ArgumentException">The classifier has no head.</exception>
    internal int RequireClassifierHead(string component) => HasClassifierHead ? ClassCount : throw new ArgumentException(
        $"{component} needs class scores, but the classifier has no head (its network yields {FeatureCount} features): " +
        "train one on the features and add it with ImageClassifier.WithLinearHead.", "Classifier");

    /// <inheritdoc/>
    public override string ToString() =>
        $"{(Architecture is null ? Network.GetName() : "ResNet")} on {ImageShape} images, " + (HasClassifierHead ? $"{ClassCount} classes" : $"no head, {FeatureCount} features");

    /// <summary>The device to use inside <paramref name="env"/>: <see cref="Device"/>, or the MLContext's choice.</summary>
    internal Device ResolveDevice(IHostEnvironment env) => Device ?? HostDevice.Resolve(env);

    /// <summary>
    /// The class index (0-based, in score order) of each key of label column <paramref name="labelColumnName"/>, when
    /// its key values name this classifier's classes in another order; null when the orders agree, when either side has
    /// no names, or when the column is not a key (then labels are classes by position). Labels meet classes by name,
    /// never by position alone.
    /// </summary>
    /// <param name="schema">The data's schema.</param>
    /// <param name="labelColumnName">The label column.</param>
    /// <param name="paramName">The option or parameter the error names.</param>
    /// <param name="remedy">An extra sentence for the error (e.g. how to skip the check), or null.</param>
    /// <exception cref="ArgumentException">The label's key values are not this classifier's class names.</exception>
    internal int[]? LabelClassOrder(DataViewSchema schema, string labelColumnName, string paramName, string? remedy = null)
    {
        if (_classNames is not { } classNames)
            return null;
        if (schema.GetColumnOrNull(labelColumnName) is not { Type: Microsoft.ML.Data.KeyDataViewType } label || KeyValueAnnotations.Read(label) is not { } labelNames)
            return null;
        if (labelNames.SequenceEqual(classNames))
            return null;
        var missing = labelNames.Except(classNames).ToArray();
        if (labelNames.Length != classNames.Length || missing.Length > 0 || classNames.Except(labelNames).Any() || labelNames.Distinct().Count() != labelNames.Length)
            throw new ArgumentException(
                $"Column '{labelColumnName}' has key values [{string.Join(", ", labelNames)}] but the classifier's classes are [{string.Join(", ", classNames)}]" +
                (missing.Length > 0 ? $"; not classes of the classifier: {string.Join(", ", missing)}" : "") +
                ". Labels are matched to classes by name; comparing them by position would be wrong." + (remedy is null ? "" : " " + remedy),
                paramName);
        return labelNames.Select(name => Array.IndexOf(classNames, name)).ToArray();
    }

    /// <summary>What model.zip stores about the classifier besides its weights.</summary>
    /// <remarks>A TorchVision ResNet, ResNeXt or Wide ResNet is saved as the <see cref="ResNetArchitecture"/> of a
    /// <see cref="ResNet"/> computing the same function with the same parameter names (<see cref="ResNetArchitecture.Recognise"/>),
    /// so it loads as that <see cref="ResNet"/>; the other TorchVision classifiers as their <see cref="TorchVisionArchitecture"/>.</remarks>
    /// <exception cref="NotSupportedException">The network is none of a <see cref="ResNet"/>, a TorchVision ResNet,
    /// a TorchVision classifier of <see cref="TorchVisionModel"/> or an imported ONNX network, or has a layout its
    /// description could not rebuild, so it could not be rebuilt on load.</exception>
    internal ImageClassifierHeader ToHeader()
    {
        var onnx = (Network as OnnxNetwork)?.Graph;
        var architecture = Architecture ?? (onnx is null ? ResNetArchitecture.Recognise(Network) : null);
        var torchVision = architecture is null && onnx is null ? TorchVisionArchitecture.Recognise(Network) : null;
        if (architecture is null && torchVision is null && onnx is null)
            throw new NotSupportedException(
                "Only the library's ResNet, networks imported with FromOnnx and TorchVision's ResNet/ResNeXt/Wide-ResNet, VGG, AlexNet, MobileNetV2 and MobileNetV3 " +
                $"can be saved into model.zip; this classifier's network is {Network.GetType().FullName}. Load its weights into one of those " +
                "(ImageClassifier.FromWeights for torchvision ResNet parameter names, FromOnnx for an ONNX export) to save it.");
        return new(architecture, ImageShape, Normalization.Mean.ToArray(), Normalization.StandardDeviation.ToArray(), _classNames,
            Normalization.ChannelOrder?.ToArray(), Normalization.MeanImage?.ToArray(), HasClassifierHead ? null : true, torchVision, onnx);
    }

    /// <summary>Rebuilds a classifier from a header and its (already loaded) network, <see cref="ImageClassifierHeader.BuildNetwork"/>'s.</summary>
    internal static ImageClassifier FromHeader(ImageClassifierHeader header, nn.Module<Tensor, Tensor> network) =>
        new(network, new ChannelNormalization(header.ChannelMean, header.ChannelStandardDeviation, header.ChannelOrder, header.MeanImage,
                header.MeanImage is null ? null : header.ImageShape),
            header.ImageShape, header.ClassNames, device: null, hasClassifierHead: header.NoClassifierHead != true);

    private void Check()
    {
        if (ImageShape.Channels < 1 || ImageShape.Height < 1 || ImageShape.Width < 1)
            throw new ArgumentException($"imageShape needs positive channels, height and width; got {ImageShape}.", "imageShape");
        if (Normalization.Channels != ImageShape.Channels)
            throw new ArgumentException(
                $"The normalization has {Normalization.Channels} channel(s) but imageShape {ImageShape} has {ImageShape.Channels}.", "normalization");
        if (Normalization.MeanImageShape is { } meanShape && meanShape != ImageShape)
            throw new ArgumentException($"The normalization's mean image is {meanShape} but imageShape is {ImageShape}.", "normalization");
        int? networkChannels = Architecture?.InputChannels ?? (int?)FirstConvolution(Network)?.in_channels;
        if (networkChannels is { } c && c != ImageShape.Channels)
            throw new ArgumentException($"The network takes {c} input channel(s) but imageShape {ImageShape} has {ImageShape.Channels}.", "imageShape");
        if (_classNames is not null && _classNames.Any(string.IsNullOrEmpty))
            throw new ArgumentException("classNames must not hold null or empty names.", "classNames");
    }

    private static Linear? LastLinear(nn.Module network) => network.modules().OfType<Linear>().LastOrDefault();

    private static Conv2d? FirstConvolution(nn.Module network) => network.modules().OfType<Conv2d>().FirstOrDefault();

    /// <summary>A hint when the file's stem convolution has the other kernel size than the architecture's stem.</summary>
    private static string? StemHint(StateDictMismatchException e, ResNetArchitecture architecture)
    {
        var stem = e.MismatchedKeys.FirstOrDefault(k => k.StartsWith("conv1.weight:", StringComparison.Ordinal));
        if (stem is null)
            return null;
        string fileShape = stem[(stem.IndexOf("file", StringComparison.Ordinal) + 4)..];
        if (!architecture.SmallImageStem && fileShape.EndsWith(", 3, 3]", StringComparison.Ordinal))
            return "The file's conv1 looks like a 3×3 small-image (CIFAR-style) stem: set ResNetArchitecture.SmallImageStem = true.";
        if (architecture.SmallImageStem && fileShape.EndsWith(", 7, 7]", StringComparison.Ordinal))
            return "The file's conv1 looks like a 7×7 ImageNet stem: set ResNetArchitecture.SmallImageStem = false.";
        return null;
    }
}
