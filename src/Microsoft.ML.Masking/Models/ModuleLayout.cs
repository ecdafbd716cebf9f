using System.Globalization;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Masking.Models;

/// <summary>
/// Compares a network with the one a saved description would rebuild: every parameter and buffer name and shape, and
/// the settings the state dict does not carry (a convolution's stride, padding, dilation, groups and padding mode, a
/// pool's window, a BatchNorm's ε), module by module. Used when a TorchVision network is recognised for saving
/// (<see cref="TorchVisionArchitecture.Recognise"/>, <see cref="ResNetArchitecture.Recognise"/>): a description is
/// saved only when loading it gives back the same function.
/// </summary>
internal static class ModuleLayout
{
    /// <summary>
    /// The first difference between <paramref name="actual"/> and <paramref name="rebuilt"/>, as "parameter 'x' is
    /// [..] here and [..] in the rebuilt network"; null when they have the same layout.
    /// </summary>
    public static string? FirstDifference(nn.Module actual, nn.Module rebuilt)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(rebuilt);
        var expected = Shapes(rebuilt);
        var found = Shapes(actual);
        var key = expected.Keys.Union(found.Keys).FirstOrDefault(k =>
            !expected.TryGetValue(k, out var e) || !found.TryGetValue(k, out var a) || !e.SequenceEqual(a));
        if (key is not null)
            return $"parameter '{key}' is {Describe(found, key)} here and {Describe(expected, key)} in the rebuilt network";
        var expectedSettings = Settings(rebuilt);
        var foundSettings = Settings(actual);
        var module = expectedSettings.Keys.Union(foundSettings.Keys).FirstOrDefault(k =>
            !expectedSettings.TryGetValue(k, out var e) || !foundSettings.TryGetValue(k, out var a) || e != a);
        return module is null ? null
            : $"module '{module}' is {foundSettings.GetValueOrDefault(module, "absent")} here and {expectedSettings.GetValueOrDefault(module, "absent")} in the rebuilt network";
    }

    /// <summary>
    /// <see cref="FirstDifference(nn.Module, nn.Module)"/> against the network <paramref name="rebuild"/> makes (and
    /// disposes); the global random state, which building a network's initial weights draws from, is restored after.
    /// An <see cref="ArgumentException"/> of the build (a description it refuses) is returned as the difference.
    /// </summary>
    public static string? FirstDifference(nn.Module actual, Func<nn.Module> rebuild)
    {
        var state = torch.get_rng_state();
        try
        {
            using var rebuilt = rebuild();
            return FirstDifference(actual, rebuilt);
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
        finally
        {
            torch.set_rng_state(state);
            state.Dispose();
        }
    }

    private static Dictionary<string, long[]> Shapes(nn.Module module) =>
        module.state_dict().ToDictionary(p => p.Key, p => p.Value.shape);

    private static string Describe(Dictionary<string, long[]> shapes, string key) =>
        shapes.TryGetValue(key, out var s) ? List(s) : "absent";

    /// <summary>The settings of every module whose forward depends on more than its parameters' shapes, by dotted path.</summary>
    private static Dictionary<string, string> Settings(nn.Module network)
    {
        var settings = new Dictionary<string, string>();
        foreach (var (name, module) in network.named_modules())
        {
            string? described = module switch
            {
                Conv2d c => $"Conv2d(kernel {List(c.kernel_size)}, stride {List(c.stride)}, padding {(c.padding is null ? c.padding_type.ToString() : List(c.padding))}, " +
                    $"dilation {List(c.dilation)}, groups {c.groups}, {c.padding_mode}{(c.transposed ? ", transposed" : "")})",
                BatchNorm2d b => $"BatchNorm2d(eps {b.eps.ToString("R", CultureInfo.InvariantCulture)})",
                MaxPool2d p => $"MaxPool2d(kernel {List(p.kernel_size)}, stride {List(p.stride ?? p.kernel_size)}, padding {List(p.padding ?? [0, 0])}, " +
                    $"dilation {List(p.dilation ?? [1, 1])}{(p.ceil_mode ? ", ceil" : "")})",
                AvgPool2d p => $"AvgPool2d(kernel {List(p.kernel_size)}, stride {List(p.stride ?? p.kernel_size)}, padding {List(p.padding ?? [0, 0])}" +
                    $"{(p.ceil_mode ? ", ceil" : "")}{(p.count_include_pad ? "" : ", padding not counted")})",
                AdaptiveAvgPool2d a => $"AdaptiveAvgPool2d({List(a.output_size)})",
                _ => null,
            };
            if (described is not null)
                settings[name] = described;
        }
        return settings;
    }

    private static string List(long[] values) => $"[{string.Join(", ", values)}]";
}
