namespace Microsoft.ML.Masking.Tests.FreshProcess;

/// <summary>
/// Entry point of the test assembly when it runs as a program (<c>dotnet Microsoft.ML.Masking.Tests.dll ...</c>);
/// the test host never calls it. Tests start it to load saved models in a process of its own, so nothing from
/// the saving process (registered assemblies, loaded types) can help the load.
/// </summary>
internal static class FreshProcessProgram
{
    public static int Main(string[] args)
    {
        if (args is [SavedModelScoring.Command, var model, var images, var output])
            return SavedModelScoring.Run(model, images, output);
        if (args is [LayerMaskScoring.Command, var maskedModel, var maskedImages, var masks, var maskedOutput])
            return LayerMaskScoring.Run(maskedModel, maskedImages, masks, maskedOutput);
        if (args is [SavedEmbedding.Command, var embeddingModel, var embeddingImages, var side, var embeddingOutput])
            return SavedEmbedding.Run(embeddingModel, embeddingImages, side, embeddingOutput);
        if (args is [SavedEmbedding.Command, var vectorModel, var vectorImages, var vectorSide, var vectorOutput, var vectorColumn, var vectorChannels])
            return SavedEmbedding.Run(vectorModel, vectorImages, vectorSide, vectorOutput, vectorColumn, vectorChannels);
        Console.Error.WriteLine($"usage: dotnet Microsoft.ML.Masking.Tests.dll {SavedModelScoring.Command} MODEL.zip IMAGE_FOLDER OUTPUT.bin");
        return 2;
    }
}
