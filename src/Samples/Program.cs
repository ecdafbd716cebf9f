using System.Reflection;
using Microsoft.ML.Masking.Samples;

// Every sample is a class implementing ISampleCommand in Commands/; this file only dispatches.
var commands = Assembly.GetExecutingAssembly().GetTypes()
    .Where(t => typeof(ISampleCommand).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (ISampleCommand)Activator.CreateInstance(t)!)
    .OrderBy(c => c.Name, StringComparer.Ordinal)
    .ToList();

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine("usage: dotnet run -c Release --project src/Samples -- <sample> [options]\n\nsamples:");
    foreach (var c in commands)
        Console.WriteLine($"  {c.Name,-20} {c.Summary}");
    return args.Length == 0 ? 1 : 0;
}

var command = commands.FirstOrDefault(c => c.Name == args[0]);
if (command is null)
{
    Console.Error.WriteLine($"unknown sample '{args[0]}'; run with --help for the list.");
    return 2;
}

try
{
    return command.Run(new SampleArguments(args.Skip(1)));
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"{command.Name}: {e.Message}");
    return 2;
}
