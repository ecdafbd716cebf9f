namespace Microsoft.ML.Masking.Data;

/// <summary>The official Fashion-MNIST split.</summary>
public enum FashionMnistSplit
{
    /// <summary>The 60,000 training images (<c>train-*-idx?-ubyte</c>).</summary>
    Train,
    /// <summary>The 10,000 test images (<c>t10k-*-idx?-ubyte</c>).</summary>
    Test,
}
