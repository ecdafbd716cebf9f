namespace Microsoft.ML.Masking.Data;

/// <summary>
/// Facts about Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): 28×28 grey images of 10 clothing classes,
/// distributed as IDX files. Debian's <c>dataset-fashion-mnist</c> package installs the official files in
/// <see cref="DefaultDirectory"/>.
/// </summary>
public static class FashionMnist
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package puts the files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>Image height and width in pixels.</summary>
    public const int ImageSize = 28;

    /// <summary>The class names in label order (0 = T-shirt/top … 9 = Ankle boot), as published with the data set.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>
    /// The image and label file of <paramref name="split"/> in <paramref name="directory"/>, gzip-compressed
    /// (<c>.gz</c>) or not, whichever is there.
    /// </summary>
    /// <exception cref="FileNotFoundException">A file is missing; the message says how to get it.</exception>
    public static (string Images, string Labels) Files(FashionMnistSplit split, string directory = DefaultDirectory)
    {
        string prefix = split == FashionMnistSplit.Train ? "train" : "t10k";
        return (Find(directory, $"{prefix}-images-idx3-ubyte"), Find(directory, $"{prefix}-labels-idx1-ubyte"));
    }

    private static string Find(string directory, string name)
    {
        foreach (var candidate in new[] { name + ".gz", name })
        {
            string path = Path.Combine(directory, candidate);
            if (File.Exists(path))
                return path;
        }
        throw new FileNotFoundException(
            $"Fashion-MNIST file '{name}[.gz]' is not in '{directory}'. Install the official files with " +
            "'sudo apt-get install dataset-fashion-mnist' (Debian/Ubuntu; they go to " + DefaultDirectory + "), " +
            "or download them from https://github.com/zalandoresearch/fashion-mnist and pass their directory.",
            Path.Combine(directory, name + ".gz"));
    }
}
