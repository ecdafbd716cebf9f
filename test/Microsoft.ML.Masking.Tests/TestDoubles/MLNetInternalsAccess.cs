using System.Runtime.CompilerServices;

// The test doubles implement ML.NET loaders (ModelLoadContext, LoadableClass) like the library does; the attribute
// type is the library's (visible through InternalsVisibleTo), recognised by the runtime by its name.
[assembly: IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: IgnoresAccessChecksTo("Microsoft.ML.Data")]
