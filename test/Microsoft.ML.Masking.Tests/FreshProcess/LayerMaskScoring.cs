namespace Microsoft.ML.Masking.Tests.FreshProcess;

/// <summary>
/// Loads a model.zip that ends in LayerMask and scores a folder's images with masks read from a file, writing
/// the scores as raw floats. Touches no library type before the load.
/// </summary>
internal static class LayerMaskScoring
{
    public const string Command = "score-layer-mask";

    public static int Run(string modelPath, string imageFolder, string masksPath, string outputPath)
    {
        var ml = new MLContext(seed: 0);
        var model = ml.Model.Load(modelPath, out _);
        var masks = MaskedImageRows.ReadMasks(masksPath);
        var data = MaskedImageRows.Load(ml, MaskedImageRows.ForFolder(imageFolder, masks), masks[0].Length);
        SavedModelScoring.WriteScores(model.Transform(data), outputPath);
        return 0;
    }
}
