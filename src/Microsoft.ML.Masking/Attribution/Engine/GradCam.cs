using Microsoft.ML.Masking.Core;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Masking.Attribution.Engine;

/// <summary>
/// Grad-CAM (Selvaraju et al. 2017; Captum's <c>LayerGradCam</c>) on the layer at a module path: the layer's channels
/// weighted by the spatial mean of the target score's gradient, summed, passed through a ReLU (the paper's choice;
/// Captum's default leaves it out) and upsampled bilinearly to the image (Captum's <c>interpolate</c> defaults to
/// nearest). One map per image, [N, 1, H, W].
/// </summary>
public sealed class GradCam : GradientMethod
{
    private readonly LayerPath _path;

    /// <summary>Creates the method.</summary>
    /// <param name="classifier">The network; its forward pass must be its children in order (the library's ResNet, nn.Sequential).</param>
    /// <param name="layerName">Module path of the layer, e.g. "layer3" or "layer2.1"; an unknown name is an error listing the candidates.</param>
    /// <param name="relu">Apply the ReLU to the map.</param>
    /// <param name="output">The output explained.</param>
    /// <param name="device">Where to compute; null for the classifier's device, else the CPU.</param>
    /// <param name="internalBatchSize">Images per pass.</param>
    public GradCam(ImageClassifier classifier, string layerName, bool relu = true, ScoreKind output = ScoreKind.Logit, int internalBatchSize = 64, Device? device = null)
        : base(classifier, output, internalBatchSize, device, false)
    {
        _path = new LayerPath(classifier.Network, layerName);
        Relu = relu;
    }

    /// <summary>The module path of the layer.</summary>
    public string LayerName => _path.LayerName;

    /// <summary>Whether the ReLU is applied.</summary>
    public bool Relu { get; }

    /// <summary>The module paths Grad-CAM can use in <paramref name="network"/>.</summary>
    public static IReadOnlyList<string> Layers(nn.Module network) => LayerPath.CandidatesOf(network);

    /// <inheritdoc/>
    public override string Name => "GradCam";

    /// <inheritdoc/>
    public override int OutputChannels(int imageChannels) => 1;

    /// <summary>Checks on one image of the given size that running the layers in order reproduces the network's output.</summary>
    /// <exception cref="NotSupportedException">The network's forward pass is not its children in order.</exception>
    public void CheckNetwork(int channels, int height, int width)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var probe = rand(new long[] { 1, channels, height, width }, generator: new Generator(0, Torch.Device), device: Torch.Device);
        var normalized = Torch.Normalization.Apply(probe);
        var expected = Torch.Network.forward(normalized);
        var (actual, _) = _path.Forward(normalized);
        double scale = Math.Max(1e-6, expected.abs().max().item<float>());
        if (!actual.shape.SequenceEqual(expected.shape) || actual.sub(expected).abs().max().item<float>() > 1e-4 * scale)
            throw new NotSupportedException("Grad-CAM reads layers of networks whose forward pass runs their child modules in order (the library's ResNet, nn.Sequential); this network's does not.");
    }

    /// <inheritdoc/>
    public override AttributionOutput Attribute(AttributionBatch batch)
    {
        if (batch.Keep is not null)
            throw new NotSupportedException("Grad-CAM reads a layer of the plain network; it does not take a keep-mask.");
        var (_, h, w) = batch.ImageSize;
        var result = zeros(batch.Count, 1, h, w, device: Torch.Device);
        for (int first = 0; first < batch.Count; first += InternalBatchSize)
        {
            int length = Math.Min(InternalBatchSize, batch.Count - first);
            using var scope = NewDisposeScope();
            using var grad = enable_grad();
            var input = batch.Pixels.narrow(0, first, length).to(Torch.Device).detach().requires_grad_(true);
            var (logits, activation) = _path.Forward(Torch.Normalization.Apply(input));
            if (activation.dim() != 4)
                throw new InvalidOperationException($"Layer '{LayerName}' outputs shape [{string.Join(", ", activation.shape)}]; Grad-CAM needs a spatial map [N, C, h, w].");
            var scores = Output == ScoreKind.Logit ? logits : logits.softmax(1);
            var targets = tensor(batch.Targets.Skip(first).Take(length).ToArray(), device: Torch.Device);
            var selected = scores.gather(1, targets.unsqueeze(1)).sum();
            var gradient = autograd.grad([selected], [activation])[0];
            var weights = gradient.mean([2, 3], keepdim: true);
            var cam = activation.detach().mul(weights).sum(1, keepdim: true);
            if (Relu) cam = cam.relu();
            result.narrow(0, first, length).copy_(F.interpolate(cam, size: [h, w], mode: InterpolationMode.Bilinear, align_corners: false));
        }
        return new AttributionOutput(result);
    }
}
