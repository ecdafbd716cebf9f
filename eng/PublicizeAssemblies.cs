// Compiled by MSBuild's RoslynCodeTaskFactory against netstandard2.0 (see eng/MLNetInternals.targets); not part of any project.
//
// Writes copies of assemblies in which internal and private types, methods and fields are public, so C# code
// can compile against them. The copies are compile-time references only: at run time the real assemblies load,
// and the consuming assembly declares [IgnoresAccessChecksTo] so the runtime lets it use the internals.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class PublicizeAssemblies : Task
{
    /// <summary>The assemblies to publicise.</summary>
    [Required] public ITaskItem[] Sources { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>Folder of the publicised copies (same file names).</summary>
    [Required] public string DestinationFolder { get; set; } = "";

    /// <summary>Every reference of the project: where Mono.Cecil finds the assemblies the sources depend on.</summary>
    [Required] public ITaskItem[] References { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>Full path of Mono.Cecil.dll (from the NuGet cache).</summary>
    [Required] public string CecilPath { get; set; } = "";

    private static string? s_cecilPath;

    public override bool Execute()
    {
        // The inline task's own assembly is loaded without a probing folder for its references, so Mono.Cecil
        // is resolved by hand before the first method that uses it is compiled.
        if (s_cecilPath is null)
        {
            s_cecilPath = CecilPath;
            AppDomain.CurrentDomain.AssemblyResolve += (_, e) =>
                new AssemblyName(e.Name).Name == "Mono.Cecil" && s_cecilPath is not null ? Assembly.LoadFrom(s_cecilPath) : null;
        }
        Directory.CreateDirectory(DestinationFolder);
        var searchFolders = References.Select(r => Path.GetDirectoryName(Path.GetFullPath(r.ItemSpec))!).Distinct().ToArray();
        foreach (var source in Sources)
        {
            string destination = Path.Combine(DestinationFolder, Path.GetFileName(source.ItemSpec));
            int changed = Publicizer.Publicize(source.ItemSpec, destination, searchFolders);
            Log.LogMessage(MessageImportance.Low, $"Publicised {changed} members of {source.ItemSpec} into {destination}.");
        }
        return !Log.HasLoggedErrors;
    }
}

internal static class Publicizer
{
    public static int Publicize(string source, string destination, string[] searchFolders)
    {
        // Writing needs the types of referenced assemblies (e.g. enum constants), found next to the project's references.
        using var resolver = new Mono.Cecil.DefaultAssemblyResolver();
        foreach (var folder in searchFolders)
            resolver.AddSearchDirectory(folder);
        using var assembly = Mono.Cecil.AssemblyDefinition.ReadAssembly(source, new Mono.Cecil.ReaderParameters { AssemblyResolver = resolver });
        int changed = 0;
        foreach (var type in assembly.MainModule.GetTypes())
        {
            if (IsCompilerOwned(type.Name, type.Namespace) || IsCompilerGenerated(type))
                continue;
            if (type.IsNested ? !(type.IsNestedPublic || type.IsNestedFamily || type.IsNestedFamilyOrAssembly) : type.IsNotPublic)
            {
                if (type.IsNested) type.IsNestedPublic = true; else type.IsPublic = true;
                changed++;
            }
            foreach (var method in type.Methods)
            {
                // Virtual members keep their access: a C# override must repeat the base member's access.
                // Explicit interface implementations (dotted names) are unreachable by name anyway.
                if (method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly || method.IsVirtual
                    || (method.Name.Contains(".") && !method.IsConstructor) || IsCompilerGenerated(method))
                    continue;
                method.IsPublic = true;
                changed++;
            }
            var eventNames = new HashSet<string>(type.Events.Select(e => e.Name));
            foreach (var field in type.Fields)
            {
                // An event's backing field has the event's name; making it public would make the name ambiguous.
                if (field.IsPublic || field.IsFamily || field.IsFamilyOrAssembly || eventNames.Contains(field.Name)
                    || field.Name.Contains("<") || IsCompilerGenerated(field))
                    continue;
                field.IsPublic = true;
                changed++;
            }
        }
        // The copy is never loaded, only compiled against, so it needs no (now invalid) strong-name signature.
        assembly.MainModule.Attributes &= ~Mono.Cecil.ModuleAttributes.StrongNameSigned;
        // Written aside then moved, so an interrupted build never leaves a truncated reference behind.
        string temp = destination + ".tmp";
        try
        {
            assembly.Write(temp);
            File.Copy(temp, destination, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
        return changed;
    }

    // Polyfills of compiler attributes (System.*) and generated helpers (<...>) stay internal: made public they
    // would clash with the framework's own copies.
    private static bool IsCompilerOwned(string name, string ns) =>
        name.StartsWith("<", StringComparison.Ordinal) || ns.StartsWith("System", StringComparison.Ordinal) || ns.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal);

    private static bool IsCompilerGenerated(Mono.Cecil.ICustomAttributeProvider member) =>
        member.HasCustomAttributes && member.CustomAttributes.Any(a => a.AttributeType.FullName == "System.Runtime.CompilerServices.CompilerGeneratedAttribute");
}
