namespace Microsoft.ML.Masking.Samples;

/// <summary>One runnable sample: <c>dotnet run --project src/Samples -- NAME [options]</c>.</summary>
public interface ISampleCommand
{
    /// <summary>The word that selects this sample on the command line.</summary>
    string Name { get; }

    /// <summary>One line for the list of samples.</summary>
    string Summary { get; }

    /// <summary>Runs the sample; returns the process exit code.</summary>
    int Run(SampleArguments args);
}
