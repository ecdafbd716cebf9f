using System.IO.Compression;
using Microsoft.ML.Masking.Core.Persistence;
using Microsoft.ML.Masking.Tests.TestDoubles;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Core.Persistence;

[TestClass]
public sealed class ModelZipTests
{
    public TestContext TestContext { get; set; } = null!;

    private string NewFolder() => TestFolders.Create(TestContext, "persistence");

    [TestMethod]
    public void TransformerRoundTripsThroughModelZipInAFreshContext()
    {
        var path = Path.Combine(NewFolder(), "model.zip");
        var data = TestData.Rows(9);
        List<float[]> before;
        {
            var ml = new MLContext(seed: 1);
            var view = ml.Data.LoadFromEnumerable(data);
            var model = ml.Transforms.CopyColumns("Original", "Features")
                .Append(new TransformerEstimatorAdapter(TestData.Transformer(ml, batchSize: 4)))
                .Fit(view);
            before = TestData.Vectors(model.Transform(view), LinearTestTransformer.ScoreColumn);
            ml.Model.Save(model, view.Schema, path);
        }

        var fresh = new MLContext(seed: 99);
        var loaded = fresh.Model.Load(path, out var inputSchema);
        var after = TestData.Vectors(loaded.Transform(fresh.Data.LoadFromEnumerable(data)), LinearTestTransformer.ScoreColumn);

        Assert.IsNotNull(inputSchema.GetColumnOrNull("Features"));
        Assert.HasCount(before.Count, after);
        // The same batches of four through the same weights: the same computation, so bit-identical.
        for (int i = 0; i < before.Count; i++)
            CollectionAssert.AreEqual(before[i], after[i], $"row {i} must be bit-identical");
        using (var engine = fresh.Model.CreatePredictionEngine<TestData.Row, TestData.Prediction>(loaded, inputSchema))
        {
            for (int i = 0; i < data.Length; i++)
                FloatAssert.AreClose(before[i], engine.Predict(data[i]).Score, 1e-5,
                    $"prediction engine, row {i}: one row against a batch of four rounds differently on some CPUs (AVX-512 kernels), so equal up to rounding");
        }
        var reloaded = ((IEnumerable<ITransformer>)loaded).OfType<LinearTestTransformer>().Single();
        Assert.AreEqual(4, reloaded.BatchSize);
        CollectionAssert.AreEqual(TestData.Classes, reloaded.HeaderValue.Classes);
    }

    [TestMethod]
    public void ZipEntryHoldsJsonHeaderAndStandaloneSafetensors()
    {
        var path = Path.Combine(NewFolder(), "model.zip");
        var ml = new MLContext(seed: 1);
        var view = ml.Data.LoadFromEnumerable(TestData.Rows(2));
        var transformer = TestData.Transformer(ml, batchSize: 4);
        ml.Model.Save(transformer, view.Schema, path);

        using var zip = ZipFile.OpenRead(path);
        var names = zip.Entries.Select(e => e.FullName).ToList();
        var header = zip.Entries.Single(e => e.Name == "Header.json");
        var weights = zip.Entries.Single(e => e.Name == "Weights.safetensors");
        Assert.IsTrue(zip.Entries.Any(e => e.FullName == Path.GetDirectoryName(header.FullName) + "/Model.key"), string.Join(", ", names));

        using (var reader = new StreamReader(header.Open()))
            StringAssert.Contains(reader.ReadToEnd(), "\"InputColumn\": \"Features\"");

        // The weights need nothing of this library or ML.NET to be read back: plain safetensors.
        var copy = nn.Linear(TestData.FeatureSize, TestData.Classes.Length);
        using (var stream = new MemoryStream())
        {
            using (var entry = weights.Open())
                entry.CopyTo(stream);
            stream.Position = 0;
            ModuleWeights.Load(copy, stream);
        }
        CollectionAssert.AreEqual(transformer.Linear.parameters().First().data<float>().ToArray(), copy.weight.data<float>().ToArray());
    }

    [TestMethod]
    public void ModelFormatRejectsBadSignaturesAndVersionRanges()
    {
        Assert.Throws<ArgumentException>(() => new Internal.ModelFormat("SHORT", "Loader", typeof(object)));
        Assert.Throws<ArgumentException>(() => new Internal.ModelFormat("NOTASCI\u00e9", "Loader", typeof(object)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Internal.ModelFormat("EIGHTCHR", "Loader", typeof(object), version: 2, oldestReadableVersion: 3));
        var info = new Internal.ModelFormat("EIGHTCHR", "Loader", typeof(LinearTestTransformer), version: 3, oldestReadableVersion: 2).ToVersionInfo();
        Assert.AreEqual(typeof(LinearTestTransformer).Assembly.FullName, info.LoaderAssemblyName, "the loader's assembly name is what a fresh process loads");
        Assert.AreEqual("Loader", info.LoaderSignature);
    }
}
