using System.Diagnostics;

namespace Microsoft.ML.Masking.Tests.FreshProcess;

/// <summary>Starts the test assembly as a program (<see cref="FreshProcessProgram"/>) and reads what it writes.</summary>
internal static class FreshProcessRunner
{
    /// <summary>Runs one command of the program in a new process; fails the test on a non-zero exit. Returns standard output.</summary>
    public static string Run(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(typeof(FreshProcessProgram).Assembly.Location);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.AreEqual(0, process.ExitCode, $"child process failed:\n{stdout}\n{stderr.Result}");
        return stdout;
    }

    /// <summary>Raw little-endian floats from a file.</summary>
    public static float[] ReadFloats(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var values = new float[bytes.Length / sizeof(float)];
        Buffer.BlockCopy(bytes, 0, values, 0, values.Length * sizeof(float));
        return values;
    }
}
