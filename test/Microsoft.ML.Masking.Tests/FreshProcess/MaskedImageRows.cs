using Microsoft.ML.Data;

namespace Microsoft.ML.Masking.Tests.FreshProcess;

/// <summary>
/// Rows of an image path and a keep-mask, shared by the LayerMask tests and the fresh-process program so that
/// both build the same input. Masks travel between processes as a file: count, size, then the floats.
/// </summary>
internal static class MaskedImageRows
{
    public sealed class Row
    {
        public string ImagePath { get; set; } = "";
        public float[] Mask { get; set; } = [];
    }

    public static IDataView Load(MLContext ml, IReadOnlyList<Row> rows, int maskSize)
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Mask)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, maskSize);
        return ml.Data.LoadFromEnumerable(rows, schema);
    }

    public static void WriteMasks(string path, IReadOnlyList<float[]> masks)
    {
        using var writer = new BinaryWriter(File.Create(path));
        writer.Write(masks.Count);
        writer.Write(masks.Count == 0 ? 0 : masks[0].Length);
        foreach (var mask in masks)
            foreach (var v in mask)
                writer.Write(v);
    }

    public static float[][] ReadMasks(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        int count = reader.ReadInt32(), size = reader.ReadInt32();
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, size).Select(_ => reader.ReadSingle()).ToArray()).ToArray();
    }

    /// <summary>Writes <paramref name="count"/> opaque <paramref name="width"/>×<paramref name="height"/> PNGs of random colours (img00.png, …) into a new folder <paramref name="folder"/>.</summary>
    public static string WriteRandomImages(string folder, int count, int seed, int width = 50, int height = 40)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            var bgra = new byte[width * height * 4];
            random.NextBytes(bgra);
            for (int p = 3; p < bgra.Length; p += 4) bgra[p] = 255;
            using var image = MLImage.CreateFromPixels(width, height, MLPixelFormat.Bgra32, bgra);
            image.Save(Path.Combine(folder, $"img{i:D2}.png"));
        }
        return folder;
    }

    /// <summary>Rows pairing the folder's PNG files (in name order) with <paramref name="masks"/>.</summary>
    public static Row[] ForFolder(string imageFolder, IReadOnlyList<float[]> masks) =>
        Directory.GetFiles(imageFolder, "*.png").Order(StringComparer.Ordinal)
            .Select((p, i) => new Row { ImagePath = Path.GetFileName(p), Mask = masks[i] }).ToArray();
}
