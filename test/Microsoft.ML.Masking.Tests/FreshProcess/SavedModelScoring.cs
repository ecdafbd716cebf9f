using Microsoft.ML.Data;

namespace Microsoft.ML.Masking.Tests.FreshProcess;

/// <summary>
/// Loads a model.zip and scores the images of a folder, written as raw little-endian floats (row after row).
/// Reports on standard output whether the library assembly was loaded before <c>mlContext.Model.Load</c>: it must
/// not be, or the test would not show that ML.NET finds the loaders by itself. Uses only ML.NET and BCL types
/// before the load, so no type of the library or of the test doubles is touched.
/// </summary>
internal static class SavedModelScoring
{
    public const string Command = "score-saved-model";
    public const string ScoreColumn = "Score";
    public const string LibraryAssembly = "Microsoft.ML.Masking";

    public sealed class ImageInput
    {
        public string ImagePath { get; set; } = "";
    }

    public static int Run(string modelPath, string imageFolder, string outputPath)
    {
        bool loadedBefore = IsLoaded(LibraryAssembly);
        var ml = new MLContext(seed: 0);
        var model = ml.Model.Load(modelPath, out _);
        bool loadedAfter = IsLoaded(LibraryAssembly);

        var images = Directory.GetFiles(imageFolder, "*.png").Order(StringComparer.Ordinal)
            .Select(p => new ImageInput { ImagePath = Path.GetFileName(p) }).ToArray();
        WriteScores(model.Transform(ml.Data.LoadFromEnumerable(images)), outputPath);
        Console.WriteLine($"library-loaded-before-load={loadedBefore}");
        Console.WriteLine($"library-loaded-after-load={loadedAfter}");
        return 0;
    }

    /// <summary>Writes every row's <see cref="ScoreColumn"/> vector as raw little-endian floats, row after row.</summary>
    public static void WriteScores(IDataView scored, string outputPath)
    {
        var column = scored.Schema[ScoreColumn];
        using var output = new BinaryWriter(File.Create(outputPath));
        using var cursor = scored.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> score = default;
        while (cursor.MoveNext())
        {
            getter(ref score);
            foreach (var value in score.DenseValues())
                output.Write(value);
        }
    }

    private static bool IsLoaded(string name) =>
        AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == name);
}
