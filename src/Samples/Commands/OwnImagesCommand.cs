using Microsoft.ML.Data;
using Microsoft.ML.Masking.Data;
using Microsoft.ML.Masking.LayerMasking;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Training;

namespace Microsoft.ML.Masking.Samples.Commands;

/// <summary>
/// The README's "Your own images", line for line (a test keeps the two the same): a folder of PNG files, a mask
/// transform, layer masking, evaluation, and the whole pipeline saved and loaded. The sample writes the PNG folder
/// itself (from the synthetic shapes), so it needs no download.
/// </summary>
public sealed class OwnImagesCommand : ISampleCommand
{
    /// <inheritdoc/>
    public string Name => "own-images";

    /// <inheritdoc/>
    public string Summary => "the README's \"Your own images\": PNG folder → PatchGridMask → LayerMask → Evaluate → model.zip (writes ./own-images)";

    /// <inheritdoc/>
    public int Run(SampleArguments args)
    {
        args.EnsureAllUsed();
        // README Your own images: begin
        var ml = new MLContext(seed: 0);
        string outputFolder = Path.GetFullPath("own-images");

        // A stand-in for your images: 32×32 PNG files in a folder per class (root/Circle/0007.png, …).
        string root = Path.Combine(outputFolder, "images");
        ShapeKind[] kinds = [ShapeKind.Circle, ShapeKind.Square, ShapeKind.Cross];
        var shapes = ml.Data.LoadShapes(new ShapesOptions { Count = 6_000, ImageSize = 32, Seed = 1, Shapes = kinds });
        var planar = shapes.GetColumn<float[]>("Image").ToArray();   // R, G, B planes of 32×32 floats in [0, 1]
        var labels = shapes.GetColumn<uint>("Label").ToArray();      // keys 1…3
        for (int i = 0; i < planar.Length; i++)
        {
            var rgba = new byte[32 * 32 * 4];
            for (int p = 0; p < 32 * 32; p++)
            {
                for (int c = 0; c < 3; c++)
                    rgba[4 * p + c] = (byte)Math.Round(255 * planar[i][c * 32 * 32 + p]);
                rgba[4 * p + 3] = 255;
            }
            var folder = Directory.CreateDirectory(Path.Combine(root, kinds[labels[i] - 1].ToString()));
            using var png = MLImage.CreateFromPixels(32, 32, MLPixelFormat.Rgba32, rgba);
            png.Save(Path.Combine(folder.FullName, $"{i:D4}.png"));
        }

        // Your images: the file list with a key-typed label named by the folders, then the pixels
        // (LoadImages → ResizeImages → ExtractPixels: "Image", planar [3, 32, 32] in [0, 1]).
        var files = ml.Data.LoadImageFolder(root);
        var split = ml.Data.TrainTestSplit(files, testFraction: 0.25, seed: 0);
        var pixels = ml.Transforms.LoadImagePixels(imageWidth: 32, imageHeight: 32);

        // A network for them. With weights of your own, describe them instead: ImageClassifier.FromWeights(path,
        // ResNetArchitecture.ResNet18(...), ChannelNormalization.ImageNet, new ImageShape(3, 32, 32)).
        var trained = pixels.Append(ml.MulticlassClassification.Trainers.ResNet(new ResNetTrainer.Options
        {
            Architecture = new ResNetArchitecture { Layers = [1, 1, 1], BaseWidth = 16, SmallImageStem = true },
            Epochs = 10,
            BatchSize = 32,
            LearningRate = 0.05,
            HorizontalFlip = false,
        })).Fit(split.TrainSet);
        var clean = ml.MulticlassClassification.Evaluate(trained.Transform(split.TestSet));
        Console.WriteLine($"clean: accuracy {clean.MicroAccuracy:P1}");

        // Masks without hand-written arrays: each row loses a random half of its 8×8 patches (the draw is fixed by the
        // seed and the row). BoxMask, SegmentMask, CombineMasks and LoadImageMask (a PNG mask per row) work alike.
        // A mask column is H×W floats, row-major (index y·W + x), 1 = keep, with dimensions [H, W].
        var pipeline = pixels
            .Append(ml.Transforms.PatchGridMask("Mask", "Image", patchSize: 8, removeFraction: 0.5, seed: 1))
            .Append(ml.Transforms.LayerMask("Score", trained.LastTransformer, maskColumnName: "Mask"));
        var model = pipeline.Fit(split.TestSet);
        var masked = ml.MulticlassClassification.Evaluate(model.Transform(split.TestSet));
        Console.WriteLine($"half of the patches removed, layer masking: accuracy {masked.MicroAccuracy:P1}");

        // One model.zip holds the image loading, the masks and the network; it loads in a fresh process too.
        string modelPath = Path.Combine(outputFolder, "own-images.zip");
        ml.Model.Save(model, files.Schema, modelPath);
        var reloaded = ml.Model.Load(modelPath, out _);
        var again = ml.MulticlassClassification.Evaluate(reloaded.Transform(split.TestSet));
        Console.WriteLine($"after save and load: accuracy {again.MicroAccuracy:P1}");
        // README Your own images: end
        return masked.MicroAccuracy == again.MicroAccuracy ? 0 : 1;
    }
}
