using System.IO.Compression;
using System.Text.Json.Nodes;
using Microsoft.ML.Data;
using Microsoft.ML.Masking.Attribution.Engine;
using Microsoft.ML.Masking.Core;
using Microsoft.ML.Masking.Ensemble;
using Microsoft.ML.Masking.Ensemble.Engine;
using Microsoft.ML.Masking.Models;
using Microsoft.ML.Masking.Tests.TestDoubles;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Tests.Ensemble;

[TestClass]
public sealed class SpatialGateTests
{
    private static readonly ResNetArchitecture Tiny = EnsembleFixtures.TinyMember;

    public TestContext TestContext { get; set; } = null!;

    private static Tensor Images(int count, long seed) => EnsembleFixtures.Images(count, seed);

    private static float Sigmoid(double z) => (float)(1 / (1 + Math.Exp(-z)));

    [TestMethod]
    public void TheFixedRuleIsOpenWhereEvidenceIsEvenOrAbsentAndClosesWhereItConcentrates()
    {
        using var scope = NewDisposeScope();
        var weights = tensor(new float[] { 1, 2, 0.5f, -1, 1, 1 }, [2, 3]);
        var map = zeros(3, 3, 4, 4);
        map[0].fill_(0.7f);                                             // evidence spread evenly
        map[1, TensorIndex.Colon, 1, 2] = tensor(new float[] { 3, 1, 2 }); // all evidence at (1, 2)
        map[2].fill_(-1f);                                              // no positive evidence for class 0
        var classes = tensor(new long[] { 0, 0, 0 });

        var concentration = SpatialGateRule.Concentration(map, weights, classes);
        var gate = SpatialGateRule.Gate(concentration.unsqueeze(1), 4, 4, threshold: 2, temperature: 0.25);

        FloatAssert.AreClose(ones(4, 4), concentration[0], 1e-6, "even evidence: concentration 1 everywhere");
        Assert.AreEqual(16f, concentration[1, 1, 2].item<float>(), 1e-4f, "all of it at one position: h·w there");
        Assert.AreEqual(16f, concentration[1].sum().item<float>(), 1e-4f, "concentrations average to 1");
        FloatAssert.AreClose(ones(4, 4), concentration[2], 0, "no positive evidence: the rule is neutral");
        float open = (float)SpatialGateRule.OpenValue(2, 0.25);
        Assert.AreEqual(Sigmoid(4), open, 1e-6f);
        Assert.IsGreaterThan(0.98f, open, "the documented open value with the defaults");
        FloatAssert.AreClose(full_like(gate[0], open), gate[0], 1e-6, "even evidence: every position open");
        FloatAssert.AreClose(full_like(gate[2], open), gate[2], 1e-6, "neutral: every position open");
        Assert.IsLessThan(1e-20f, gate[1, 1, 2].item<float>(), "the position holding all the evidence is closed");
        Assert.IsGreaterThan(0f, gate[1, 1, 2].item<float>(), "but the gate stays above 0");
        Assert.AreEqual(Sigmoid(8), gate[1, 0, 0].item<float>(), 1e-6f, "positions without evidence are open (R = 0)");

        var random = SpatialGateRule.Gate(rand(5, 2, 4, 4, generator: new Generator(3)).Times(6), 8, 8, 2, 0.25);
        CollectionAssert.AreEqual(new long[] { 5, 8, 8 }, random.shape, "resized to the gated member's map");
        Assert.IsTrue(random.gt(0).all().item<bool>() && random.lt(1).all().item<bool>(), "gates in (0, 1)");
        var again = SpatialGateRule.Gate(rand(5, 2, 4, 4, generator: new Generator(3)).Times(6), 8, 8, 2, 0.25);
        Assert.IsTrue(random.eq(again).all().item<bool>(), "a fixed function: the same input gives the same gate");
    }

    [TestMethod]
    public void TheFixedGateIsMonotoneDecreasingInTheEarlierMembersMeanConcentration()
    {
        using var scope = NewDisposeScope();
        var concentrations = rand(1, 3, 4, 4, generator: new Generator(8)).Times(5);
        var mean = concentrations.mean([1]).flatten().data<float>().ToArray();
        var gate = SpatialGateRule.Gate(concentrations, 4, 4, 2, 0.5).flatten().data<float>().ToArray();
        var order = Enumerable.Range(0, 16).OrderBy(i => mean[i]).ToArray();
        for (int k = 1; k < order.Length; k++)
            Assert.IsLessThanOrEqualTo(gate[order[k - 1]], gate[order[k]], "more concentrated evidence never opens the gate further");
        Assert.AreEqual(0.5f, SpatialGateRule.Gate(full(1, 2, 4, 4, 2f), 4, 4, 2, 0.5)[0, 0, 0].item<float>(), 1e-6f, "½ at the threshold");
    }

    [TestMethod]
    public void SpatialGatesCloseMemberIsMapWhereTheEarlierMembersFoundTheirEvidence()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var network = new EnsembleNetwork(EnsembleGating.FixedSpatial, threshold: 1.5, temperature: 0.5);
        for (int i = 0; i < 3; i++)
            network.Add(new ResNet(Tiny, seed: 10 + i), null);
        network.Freeze(CPU);
        var x = Images(6, 50);

        var forward = network.Forward(x);

        Assert.IsTrue(forward[0].Gate.eq(1).all().item<bool>(), "member 0 is never gated");
        CollectionAssert.AreEqual(new long[] { 6, 16 * 16 }, forward[1].Gate.shape, "one gate per position of the 16×16 last map");
        var r0 = SpatialGateRule.Concentration(forward[0].FeatureMap, network.Members[0].Head.weight, forward[0].Logits.argmax(1));
        var g1 = SpatialGateRule.Gate(r0.unsqueeze(1), 16, 16, 1.5, 0.5);
        FloatAssert.AreClose(g1.flatten(1), forward[1].Gate, 1e-6, "member 1's gate is the rule on member 0's evidence");
        var r1 = SpatialGateRule.Concentration(forward[1].FeatureMap.mul(g1.unsqueeze(1)), network.Members[1].Head.weight, forward[1].Logits.argmax(1));
        FloatAssert.AreClose(SpatialGateRule.Gate(stack([r0, r1], 1), 16, 16, 1.5, 0.5).flatten(1), forward[2].Gate, 1e-5,
            "member 2's gate is the rule on members 0 and 1's mean evidence, member 1's taken with its own gate");
        var member1 = network.Members[1];
        FloatAssert.AreClose(member1.Head.forward(member1.Pool(member1.FeatureMap(x).mul(g1.unsqueeze(1)))), forward[1].Logits, 1e-5,
            "the gate multiplies the last feature map before pooling and the head");
        Assert.IsTrue(forward[2].Gate.lt(0.5).any().item<bool>(), "somewhere the earlier members' evidence closes the gate");

        var importance = new ImportanceSettings(ChannelImportanceMethod.LayerIntegratedGradients, AttributionBaseline.Zero, 2, 1, 0, 0)
            .Create(network, 2, new(3, 16, 16), ChannelNormalization.Identity(3), 4, CPU)!
            .Attribute(new AttributionBatch(x, [0, 1, 2, 3, 0, 1], [0, 1, 2, 3, 4, 5])).Attributions.sum([2, 3]);
        FloatAssert.AreClose(ChannelImportance.Contributions(forward[2].GatedFeatures, network.Members[2].Head.weight, tensor(new long[] { 0, 1, 2, 3, 0, 1 })),
            importance, 1e-5, "layer IG from the zero map is the exact contribution under a spatial gate too");
    }

    [TestMethod]
    public void LearnedSpatialGatesStartOpen()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var network = new EnsembleNetwork(EnsembleGating.LearnedSpatial);
        network.Add(new ResNet(Tiny, seed: 1), null);
        network.Add(new ResNet(Tiny, seed: 2), new SpatialGate(1, initialBias: 3));
        network.Add(new ResNet(Tiny, seed: 3), new SpatialGate(2, initialBias: 3));
        network.Freeze(CPU);

        var forward = network.Forward(Images(4, 51));

        FloatAssert.AreClose(full_like(forward[1].Gate, Sigmoid(3)), forward[1].Gate, 1e-6, "a fresh gate is sigmoid(bias) at every position");
        FloatAssert.AreClose(full_like(forward[2].Gate, Sigmoid(3)), forward[2].Gate, 1e-6, "a fresh gate is sigmoid(bias) at every position");
    }

    [TestMethod]
    [DataRow(EnsembleGating.FixedSpatial)]
    [DataRow(EnsembleGating.LearnedSpatial)]
    public void SpatiallyGatedEnsemblesTrainDeterministicallyWithPositionGates(EnsembleGating gating)
    {
        var ml = new MLContext(1);
        var data = TrainingFixtures.Shapes(ml, 48, seed: 52);
        var probe = TrainingFixtures.Shapes(ml, 16, seed: 53);
        DynamicMaskEnsembleTransformer Train()
        {
            var options = EnsembleFixtures.Options();
            options.Gating = gating;
            options.GateInitialBias = 2;
            options.SpatialGateThreshold = 1.5;
            options.SpatialGateTemperature = 0.5;
            return ml.MulticlassClassification.Trainers.DynamicMaskEnsemble(options).Fit(data);
        }

        var model = Train();
        var scored = model.Transform(probe);

        var dimensions = ((VectorDataViewType)scored.Schema["Gates"].Type).Dimensions.ToArray();
        CollectionAssert.AreEqual(new[] { 2, 16, 16 }, dimensions, "Gates [members, h, w] of the last feature map");
        var gates = TestData.Vectors(scored, "Gates");
        var closure = TestData.Column<float>(scored, "GateClosure");
        for (int i = 0; i < gates.Count; i++)
        {
            Assert.IsTrue(gates[i].Take(256).All(g => g == 1), "member 0's gate is all ones");
            Assert.IsTrue(gates[i].Skip(256).All(g => g > 0 && g < 1), "gates in (0, 1)");
            Assert.AreEqual(gates[i].Skip(256).Average(g => 1 - g), closure[i], 1e-5, "GateClosure is the mean of 1 − gate");
        }
        Assert.IsTrue(gates.Any(g => g.Skip(256).Distinct().Count() > 1),
            "the gates depend on the position (a learned gate starts uniform at sigmoid(bias): it must have trained)");
        CollectionAssert.AreEqual(TestData.Vectors(scored, "Score").SelectMany(v => v).ToArray(),
            TestData.Vectors(Train().Transform(probe), "Score").SelectMany(v => v).ToArray(), "the same seed trains the same ensemble");

        // Saved and loaded: the rule's θ and T (not the defaults) and the learned gates' weights come back.
        string path = Path.Combine(TestFolders.Create(TestContext, $"ensemble-{gating}"), "model.zip");
        ml.Model.Save(model, probe.Schema, path);
        var loaded = ml.Model.Load(path, out _).Transform(probe);
        foreach (var column in new[] { "Score", "Gates" })
            CollectionAssert.AreEqual(TestData.Vectors(scored, column).SelectMany(v => v).ToArray(),
                TestData.Vectors(loaded, column).SelectMany(v => v).ToArray(), $"{column} after save and load");
        CollectionAssert.AreEqual(dimensions, ((VectorDataViewType)loaded.Schema["Gates"].Type).Dimensions.ToArray());
    }

    [TestMethod]
    public void AVersion1SavedEnsembleStillLoadsAndScoresAsBefore()
    {
        var ml = new MLContext(1);
        var data = TrainingFixtures.Shapes(ml, 32, seed: 54);
        var model = ml.MulticlassClassification.Trainers.DynamicMaskEnsemble(EnsembleFixtures.Options()).Fit(data);
        string path = Path.Combine(TestFolders.Create(TestContext, "ensemble-v1"), "model.zip");
        var images = ml.Transforms.SelectColumns("Image").Fit(data).Transform(data);
        ml.Model.Save(model, images.Schema, path);

        // Make it what version 1 wrote: a header without the version-2 fields and version 1 in the entry's Model.key.
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Update))
        {
            var header = zip.Entries.Single(e => e.Name == "Header.json");
            string folder = header.FullName[..^"Header.json".Length];
            JsonObject json;
            using (var reader = new StreamReader(header.Open()))
                json = JsonNode.Parse(reader.ReadToEnd())!.AsObject();
            foreach (var field in new[] { "ImportanceMethod", "SpatialGateThreshold", "SpatialGateTemperature", "FeatureMapSize" })
                Assert.IsTrue(json.Remove(field), $"version 2 writes {field}");
            header.Delete();
            using (var writer = new StreamWriter(zip.CreateEntry(folder + "Header.json").Open()))
                writer.Write(json.ToJsonString());
            var key = zip.GetEntry(folder + "Model.key")!;
            byte[] bytes;
            using (var stream = new MemoryStream())
            {
                using (var read = key.Open()) read.CopyTo(stream);
                bytes = stream.ToArray();
            }
            // ML.NET's ModelHeader: the model signature at 0x40, then the written and readable versions (0x10000 + n).
            Assert.AreEqual("DMENSEMB", System.Text.Encoding.ASCII.GetString(bytes, 0x40, 8));
            Assert.AreEqual(0x00010002u, BitConverter.ToUInt32(bytes, 0x48), "this code writes version 2");
            BitConverter.GetBytes(0x00010001u).CopyTo(bytes, 0x48);
            BitConverter.GetBytes(0x00010001u).CopyTo(bytes, 0x4C);
            key.Delete();
            using var keyStream = zip.CreateEntry(folder + "Model.key").Open();
            keyStream.Write(bytes);
        }

        var loaded = ml.Model.Load(path, out _).Transform(images);
        var expected = model.Transform(data);
        foreach (var column in new[] { "Score", "Gates" })
            CollectionAssert.AreEqual(TestData.Vectors(expected, column).SelectMany(v => v).ToArray(),
                TestData.Vectors(loaded, column).SelectMany(v => v).ToArray(), column);
        CollectionAssert.AreEqual(new[] { 2, 8 }, ((VectorDataViewType)loaded.Schema["Gates"].Type).Dimensions.ToArray(), "channel gates, as version 1 had");
    }
}
