using System.Diagnostics;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Masking.Evaluation;

/// <summary>
/// Tells the user, through an ML.NET channel (visible with <c>mlContext.Log</c>), how far an evaluation is and
/// how long is left, extrapolating from the time per image so far. At most one message every few seconds, plus
/// the last.
/// </summary>
internal sealed class EvaluationProgress
{
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);

    private readonly TimeSpan _interval;
    private readonly IChannel _channel;
    private readonly string _task;
    private readonly long _totalRows;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan? _lastMessage;

    /// <param name="channel">Where messages go.</param>
    /// <param name="task">What is running, the start of every message.</param>
    /// <param name="totalRows">Images to do.</param>
    /// <param name="setting">One line on the settings, said at the start.</param>
    /// <param name="interval">Least time between two progress messages. Default: 5 s.</param>
    public EvaluationProgress(IChannel channel, string task, long totalRows, string setting, TimeSpan? interval = null)
    {
        _interval = interval ?? DefaultInterval;
        _channel = channel;
        _task = task;
        _totalRows = totalRows;
        channel.Info(FormattableString.Invariant($"{task}: {totalRows} images; {setting}."));
    }

    /// <summary>Records that <paramref name="rowsDone"/> images are finished.</summary>
    public void Report(long rowsDone)
    {
        var elapsed = _clock.Elapsed;
        bool last = rowsDone >= _totalRows;
        if (!last && _lastMessage is { } previous && elapsed - previous < _interval)
            return;
        _lastMessage = elapsed;
        if (last)
        {
            _channel.Info(FormattableString.Invariant($"{_task}: {rowsDone} images in {Format(elapsed)}."));
            return;
        }
        var left = TimeSpan.FromTicks((long)(elapsed.Ticks * (double)(_totalRows - rowsDone) / Math.Max(1, rowsDone)));
        _channel.Info(FormattableString.Invariant($"{_task}: {rowsDone}/{_totalRows} images ({100.0 * rowsDone / _totalRows:0}%), {Format(elapsed)} elapsed, about {Format(left)} left."));
    }

    // Log lines are read by programs too (and by the tests): numbers in the invariant culture, whatever the user's.
    private static string Format(TimeSpan t) =>
        t.TotalHours >= 1 ? FormattableString.Invariant($"{(int)t.TotalHours}h {t.Minutes:00}m")
        : t.TotalMinutes >= 1 ? FormattableString.Invariant($"{(int)t.TotalMinutes}m {t.Seconds:00}s")
        : FormattableString.Invariant($"{t.TotalSeconds:0.0}s");
}
