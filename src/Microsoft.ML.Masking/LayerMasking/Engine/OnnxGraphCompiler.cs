using Microsoft.ML.Masking.LayerMasking.Engine.Nodes;
using Microsoft.ML.Masking.Models.Onnx;
using TorchSharp.Modules;

namespace Microsoft.ML.Masking.LayerMasking.Engine;

/// <summary>
/// Reads the layer DAG of an imported ONNX network (<see cref="OnnxNetwork"/>) into the layer graph: chains of
/// layers, with every join (Add, Concat, a channel scale) becoming the block that starts at the join's immediate
/// dominator — the last tensor every path from the image to the join passes through. An Add becomes a
/// <see cref="ResidualNode"/> (no activation of its own), a Concat a <see cref="ConcatNode"/>, a channel scale computed
/// as GlobalAveragePool → 1×1 Conv → activation → 1×1 Conv → activation from the map it scales a
/// <see cref="SqueezeExcitationNode"/>; a Conv directly followed by the only BatchNorm reading it is one
/// <see cref="ConvolutionNode"/>. Blocks nest, so ResNets, MobileNets (inverted residuals around squeeze-and-excitation),
/// Inception-style branches and VGG/AlexNet stacks are read; a graph whose branches cross (one tensor read by two blocks
/// that join at different places, as DenseNet's repeated concatenations are exported) is an error naming the node.
/// </summary>
internal static class OnnxGraphCompiler
{
    /// <summary>The layer graph of <paramref name="network"/>.</summary>
    /// <exception cref="NotSupportedException">A layer or pattern the engine cannot mask; the message names the ONNX node.</exception>
    public static ChainNode Compile(OnnxNetwork network, bool foldBatchNorm) => new Compiler(network, foldBatchNorm).Run();

    private sealed class Compiler
    {
        private readonly OnnxNetwork _network;
        private readonly OnnxLayer[] _layers;
        private readonly bool _fold;
        // Values: 0 is the image, v = i + 1 the output of layer i.
        private readonly int[] _readers;
        private readonly int[] _dominator;
        private readonly bool[] _pooled;
        private readonly int[] _emitted;
        private readonly Dictionary<ConvolutionNode, int> _unnormalised = new();

        public Compiler(OnnxNetwork network, bool fold)
        {
            _network = network;
            _layers = network.Graph.Layers;
            _fold = fold;
            int n = _layers.Length + 1;
            _readers = new int[n];
            _dominator = new int[n];
            _pooled = new bool[n];
            _emitted = new int[_layers.Length];
            for (int v = 1; v < n; v++)
            {
                var layer = _layers[v - 1];
                var inputs = layer.Inputs.Select(i => i + 1).ToArray();
                if (inputs.Any(i => i >= v))
                    throw new NotSupportedException($"{layer.Describe()} reads a later layer: the layers are not in topological order.");
                foreach (var i in inputs) _readers[i]++;
                _dominator[v] = inputs.Aggregate(Intersect);
                _pooled[v] = layer.Kind is OnnxLayerKind.GlobalAveragePool or OnnxLayerKind.Flatten or OnnxLayerKind.Linear || SpatialInputs(layer).Any(i => _pooled[i + 1]);
            }
        }

        /// <summary>The inputs that must be maps (a channel scale's scales are pooled by design).</summary>
        private static IEnumerable<int> SpatialInputs(OnnxLayer layer) =>
            layer.Kind == OnnxLayerKind.ChannelScale ? layer.Inputs.Take(1) : layer.Inputs;

        /// <summary>The nearest common dominator of two values (values are numbered in topological order).</summary>
        private int Intersect(int a, int b)
        {
            while (a != b)
            {
                while (a > b) a = _dominator[a];
                while (b > a) b = _dominator[b];
            }
            return a;
        }

        public ChainNode Run()
        {
            var nodes = new List<GraphNode>();
            Build(_layers.Length, 0, nodes);
            return new ChainNode("", nodes);
        }

        /// <summary>Appends the nodes computing value <paramref name="to"/> from value <paramref name="from"/>, which dominates it.</summary>
        private void Build(int to, int from, List<GraphNode> nodes)
        {
            var steps = new Stack<int>();
            for (int v = to; v != from;)
            {
                if (v == 0)
                    throw new NotSupportedException($"{_layers[to - 1].Describe()} is reached from outside its block.");
                steps.Push(v);
                var layer = _layers[v - 1];
                v = layer.Inputs.Length == 1 ? layer.Inputs[0] + 1 : _dominator[v];
            }
            while (steps.Count > 0)
                Emit(steps.Pop() - 1, nodes);
        }

        private void MarkEmitted(int index)
        {
            if (++_emitted[index] > 1)
                throw new NotSupportedException(
                    $"{_layers[index].Describe()} feeds branches that do not join at one node. Layer masking reads residual sums, " +
                    "concatenations and squeeze-and-excitation nested in one another (series-parallel graphs); in this graph a tensor " +
                    "is read by two blocks that join at different places (DenseNet's repeated concatenations are exported this way).");
        }

        private void Emit(int index, List<GraphNode> nodes)
        {
            var layer = _layers[index];
            MarkEmitted(index);
            string path = layer.Name;
            bool pooledInput = SpatialInputs(layer).Any(i => _pooled[i + 1]);
            if (pooledInput && layer.Kind is not (OnnxLayerKind.Activation or OnnxLayerKind.Flatten or OnnxLayerKind.Linear))
                throw new NotSupportedException(
                    $"{layer.Describe()} works on the pooled vector after the global average pool; layer masking runs only activations, Flatten and Gemm/MatMul there.");
            switch (layer.Kind)
            {
                case OnnxLayerKind.Convolution:
                    var convolution = Convolution(index, null);
                    _unnormalised[convolution] = index;
                    nodes.Add(convolution);
                    return;
                case OnnxLayerKind.BatchNorm:
                    var norm = _network.Module<BatchNorm2d>(index);
                    int source = layer.Inputs[0];
                    // A convolution whose only reader is this BatchNorm takes it (and may fold it).
                    if (nodes.Count > 0 && nodes[^1] is ConvolutionNode previous && _unnormalised.TryGetValue(previous, out var convIndex)
                        && convIndex == source && _readers[source + 1] == 1)
                    {
                        _unnormalised.Remove(previous);
                        nodes[^1] = Convolution(convIndex, norm);
                        return;
                    }
                    nodes.Add(new BatchNormNode(path, norm));
                    return;
                case OnnxLayerKind.Activation:
                    nodes.Add(ActivationNode.Named(path, layer.Activation!, layer.Alpha, layer.Beta));
                    return;
                case OnnxLayerKind.MaxPool:
                    nodes.Add(new MaxPoolNode(path, layer.Kernel!, layer.Stride!, layer.Padding!, layer.Dilation!));
                    return;
                case OnnxLayerKind.AveragePool:
                    nodes.Add(new AveragePoolNode(path, layer.Kernel!, layer.Stride!, layer.Padding!, layer.CountIncludePad));
                    return;
                case OnnxLayerKind.GlobalAveragePool:
                    nodes.Add(new GlobalAveragePoolNode(path));
                    return;
                case OnnxLayerKind.Flatten:
                    nodes.Add(new FlattenNode(path, 1, -1));
                    return;
                case OnnxLayerKind.Linear:
                    nodes.Add(new LinearNode(path, _network.Module<Linear>(index)));
                    return;
                case OnnxLayerKind.Add:
                {
                    var branches = Branches(index);
                    // One branch may be the block input itself (an identity shortcut).
                    var (main, shortcut) = branches[0].Nodes.Count == 0 ? (branches[1], branches[0]) : (branches[0], branches[1]);
                    nodes.Add(new ResidualNode(path, main, shortcut.Nodes.Count == 0 ? null : shortcut, relu: false));
                    return;
                }
                case OnnxLayerKind.Concat:
                    nodes.Add(new ConcatNode(path, Branches(index)));
                    return;
                case OnnxLayerKind.ChannelScale:
                    nodes.Add(SqueezeExcitation(index));
                    return;
                default:
                    throw new NotSupportedException($"{layer.Describe()}: layer kind {layer.Kind} has no layer-masking node.");
            }
        }

        private ConvolutionNode Convolution(int index, BatchNorm2d? norm) =>
            new(_layers[index].Name, _network.Module<Conv2d>(index), norm, _fold);

        /// <summary>Each input of join <paramref name="index"/> as a chain from the join's block input (its immediate dominator).</summary>
        private ChainNode[] Branches(int index)
        {
            int start = _dominator[index + 1];
            return _layers[index].Inputs.Select(input =>
            {
                var branch = new List<GraphNode>();
                Build(input + 1, start, branch);
                return new ChainNode(_layers[index].Name, branch);
            }).ToArray();
        }

        /// <summary>
        /// A map times channel scales made from it by GlobalAveragePool → 1×1 Conv → activation → 1×1 Conv → activation
        /// (each read once): squeeze-and-excitation, with the masked mean as its squeeze.
        /// </summary>
        private SqueezeExcitationNode SqueezeExcitation(int index)
        {
            var layer = _layers[index];
            int map = layer.Inputs[0], scale = layer.Inputs[1];
            NotSupportedException NotSqueezeExcitation(string why) => new(
                $"{layer.Describe()} scales channels, which layer masking reads only as squeeze-and-excitation: the map times " +
                $"GlobalAveragePool → 1×1 Conv → activation → 1×1 Conv → activation of that same map, each read once; {why}.");
            // Walk back from the scale: activation, conv, activation, conv, pool.
            var chain = new int[5];
            int v = scale;
            OnnxLayerKind[] expected = [OnnxLayerKind.Activation, OnnxLayerKind.Convolution, OnnxLayerKind.Activation, OnnxLayerKind.Convolution, OnnxLayerKind.GlobalAveragePool];
            for (int k = 0; k < 5; k++)
            {
                if (v < 0 || _layers[v].Kind != expected[k])
                    throw NotSqueezeExcitation(v < 0 ? "the scales come from the image" : $"{_layers[v].Describe()} is where a {expected[k]} layer is expected");
                if (_readers[v + 1] != 1)
                    throw NotSqueezeExcitation($"{_layers[v].Describe()} is read elsewhere too");
                chain[k] = v;
                v = _layers[v].Inputs[0];
            }
            if (v != map)
                throw NotSqueezeExcitation("the pool reads another tensor than the one scaled");
            if (_dominator[index + 1] != map + 1)
                throw NotSqueezeExcitation("the scaled map is not the block's input");
            foreach (var conv in new[] { chain[1], chain[3] })
            {
                var c = _layers[conv];
                if (c.Kernel!.Any(k => k != 1) || c.Stride!.Any(s => s != 1) || c.Padding!.Any(p => p != 0) || c.Groups != 1)
                    throw NotSqueezeExcitation($"{c.Describe()} is not a plain 1×1 convolution");
            }
            foreach (var k in chain) MarkEmitted(k);
            ActivationNode Activation(int i) => ActivationNode.Named(_layers[i].Name, _layers[i].Activation!, _layers[i].Alpha, _layers[i].Beta);
            return new SqueezeExcitationNode(layer.Name, _network.Module<Conv2d>(chain[3]), Activation(chain[2]), _network.Module<Conv2d>(chain[1]), Activation(chain[0]));
        }
    }
}
