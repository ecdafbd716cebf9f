using Mono.Cecil;
using Mono.Cecil.Cil;
using Microsoft.ML.Masking.LayerMasking;
using TorchSharp;

namespace Microsoft.ML.Masking.Tests.Core;

/// <summary>
/// Reads the compiled library and TorchSharp to check the rule of <c>Core/ScalarMath</c>: no number becomes a
/// temporary TorchSharp Scalar outside ScalarMath, and the library calls no TorchSharp method that makes one
/// internally (such as <c>Tensor.add(Tensor)</c>, whose alpha of 1 is a temporary, or <c>tensor + 1.0</c>). Such a
/// temporary can be finalized by a garbage collection on another thread while libtorch still reads it.
/// </summary>
[TestClass]
public sealed class ScalarLifetimeAuditTests
{
    private const string AllowedType = "Microsoft.ML.Masking.Core.ScalarMath";

    private static bool MakesTemporaryScalar(Instruction instruction) =>
        instruction.Operand is MethodReference { ReturnType.FullName: "TorchSharp.Scalar" } method
        && method.Name is "op_Implicit" or "ToScalar";

    /// <summary>TorchSharp methods that create a temporary Scalar, directly or through other TorchSharp methods.</summary>
    private static HashSet<string> TorchSharpMethodsMakingTemporaries()
    {
        using var torchSharp = AssemblyDefinition.ReadAssembly(typeof(Scalar).Assembly.Location);
        var bodies = torchSharp.MainModule.GetTypes().SelectMany(t => t.Methods).Where(m => m.HasBody).ToArray();
        var makers = bodies.Where(m => m.Body.Instructions.Any(MakesTemporaryScalar)).Select(m => m.FullName).ToHashSet();
        bool grew = true;
        while (grew)
        {
            grew = false;
            foreach (var method in bodies)
            {
                if (!makers.Contains(method.FullName)
                    && method.Body.Instructions.Any(i => i.Operand is MethodReference callee && makers.Contains(callee.FullName)))
                    grew |= makers.Add(method.FullName);
            }
        }
        return makers;
    }

    [TestMethod]
    public void TheLibraryPassesTorchSharpOnlyScalarsItKeepsAlive()
    {
        var makers = TorchSharpMethodsMakingTemporaries();
        Assert.Contains("TorchSharp.torch/Tensor TorchSharp.torch/Tensor::add(TorchSharp.torch/Tensor)", makers,
            "the audit recognises Tensor.add(Tensor), whose alpha is a temporary");

        using var library = AssemblyDefinition.ReadAssembly(typeof(LayerMaskingEstimator).Assembly.Location);
        var violations = new List<string>();
        foreach (var type in library.MainModule.GetTypes())
        {
            foreach (var method in type.Methods.Where(m => m.HasBody))
            {
                foreach (var instruction in method.Body.Instructions)
                {
                    if (MakesTemporaryScalar(instruction))
                    {
                        if (type.FullName != AllowedType)
                            violations.Add($"{type.FullName}::{method.Name} converts a number to a Scalar");
                    }
                    else if (instruction.Operand is MethodReference callee && makers.Contains(callee.FullName))
                        violations.Add($"{type.FullName}::{method.Name} calls {callee.DeclaringType.Name}::{callee.Name}, which makes a temporary Scalar");
                }
            }
        }
        Assert.IsEmpty(violations, "use Core/ScalarMath instead:\n" + string.Join("\n", violations.Distinct()));
    }
}
