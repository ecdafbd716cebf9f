using Microsoft.ML.Masking.Core.Persistence;
using Microsoft.ML.Masking.Tests.TestDoubles;

namespace Microsoft.ML.Masking.Tests.Core.Persistence;

[TestClass]
public sealed class AtomicFileTests
{
    public TestContext TestContext { get; set; } = null!;

    private string NewFolder() => TestFolders.Create(TestContext, "atomic");

    [TestMethod]
    public void WritesThenReplacesWithoutLeavingTemporaryFiles()
    {
        var folder = NewFolder();
        var path = Path.Combine(folder, "checkpoint.safetensors");

        AtomicFile.WriteAllBytes(path, [1, 2, 3]);
        AtomicFile.WriteAllBytes(path, [4, 5]);

        CollectionAssert.AreEqual(new byte[] { 4, 5 }, File.ReadAllBytes(path));
        CollectionAssert.AreEqual(new[] { path }, Directory.GetFiles(folder));
    }

    [TestMethod]
    public void AFailedWriteKeepsThePreviousContent()
    {
        var folder = NewFolder();
        var path = Path.Combine(folder, "checkpoint.safetensors");
        AtomicFile.WriteAllBytes(path, [1, 2, 3]);

        Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write([9, 9, 9, 9]);
            throw new IOException("disk full");
        }));

        CollectionAssert.AreEqual(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        CollectionAssert.AreEqual(new[] { path }, Directory.GetFiles(folder));
    }

    [TestMethod]
    public void MissingFolderIsNamed()
    {
        var folder = Path.Combine(NewFolder(), "absent");
        var error = Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.WriteAllBytes(Path.Combine(folder, "x.bin"), [1]));
        StringAssert.Contains(error.Message, folder);
    }
}
