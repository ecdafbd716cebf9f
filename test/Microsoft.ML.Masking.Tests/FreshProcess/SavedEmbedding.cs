using Microsoft.ML.Data;

namespace Microsoft.ML.Masking.Tests.FreshProcess;

/// <summary>
/// Loads a model.zip whose pipeline starts from a float image column "Image" (side × side × channels values) and
/// writes every row's output column (default "Embedding") as raw little-endian floats. Touches only ML.NET and BCL types before the load, and
/// reports whether the library was loaded before it (it must not be).
/// </summary>
internal static class SavedEmbedding
{
    public const string Command = "embed-saved-model";

    private sealed class ImageRow
    {
        public float[] Image { get; set; } = [];
    }

    public static int Run(string modelPath, string imagesPath, string side, string outputPath, string column = "Embedding", string channels = "1")
    {
        bool loadedBefore = AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == SavedModelScoring.LibraryAssembly);
        var ml = new MLContext(seed: 0);
        var model = ml.Model.Load(modelPath, out _);
        int sideLength = int.Parse(side, System.Globalization.CultureInfo.InvariantCulture);
        int size = sideLength * sideLength * int.Parse(channels, System.Globalization.CultureInfo.InvariantCulture);
        var values = FreshProcessRunner.ReadFloats(imagesPath);
        var rows = Enumerable.Range(0, values.Length / (size)).Select(i => new ImageRow { Image = values.AsSpan(i * size, size).ToArray() }).ToArray();
        var schema = SchemaDefinition.Create(typeof(ImageRow));
        schema["Image"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
        var embedded = model.Transform(ml.Data.LoadFromEnumerable(rows, schema));
        var written = embedded.Schema[column];
        using (var output = new BinaryWriter(File.Create(outputPath)))
        using (var cursor = embedded.GetRowCursor([written]))
        {
            var getter = cursor.GetGetter<VBuffer<float>>(written);
            VBuffer<float> value = default;
            while (cursor.MoveNext())
            {
                getter(ref value);
                foreach (var v in value.DenseValues())
                    output.Write(v);
            }
        }
        Console.WriteLine($"library-loaded-before-load={loadedBefore}");
        return 0;
    }
}
