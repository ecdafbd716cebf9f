using System.Collections;
using Microsoft.ML.Masking.Core.Reporting;

namespace Microsoft.ML.Masking.Training;

/// <summary>
/// The epochs of one <see cref="ResNetTrainer"/> run, in order, with the same CSV and SVG output as the evaluation
/// results: a training curve is easier to read as a picture than as a log.
/// </summary>
public sealed class ResNetTrainingHistory : IReadOnlyList<ResNetEpochReport>
{
    private readonly ResNetEpochReport[] _epochs;

    internal ResNetTrainingHistory(IEnumerable<ResNetEpochReport> epochs) => _epochs = epochs.ToArray();

    /// <summary>The number of epochs trained (a run resumed from a checkpoint includes the epochs before it).</summary>
    public int Count => _epochs.Length;

    /// <summary>The report of the <paramref name="index"/>-th epoch (0-based; its <see cref="ResNetEpochReport.Epoch"/> is index + 1).</summary>
    /// <param name="index">The position in the history.</param>
    public ResNetEpochReport this[int index] => _epochs[index];

    /// <inheritdoc/>
    public IEnumerator<ResNetEpochReport> GetEnumerator() => ((IEnumerable<ResNetEpochReport>)_epochs).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _epochs.GetEnumerator();

    /// <summary>
    /// One row per epoch: epoch, training loss and accuracy, validation loss and accuracy (NaN without a validation
    /// set), learning rate, images per second and seconds.
    /// </summary>
    public string ToCsv() => CsvText.Build(
        ["epoch", "training_loss", "training_accuracy", "validation_loss", "validation_accuracy", "learning_rate", "images_per_second", "seconds"],
        _epochs.Select(e => (IReadOnlyList<object>)
        [
            e.Epoch, e.TrainingLoss, e.TrainingAccuracy, e.ValidationLoss ?? double.NaN, e.ValidationAccuracy ?? double.NaN,
            e.LearningRate, e.ImagesPerSecond, e.Duration.TotalSeconds,
        ]));

    /// <summary>Writes <see cref="ToCsv"/> to <paramref name="path"/>.</summary>
    /// <param name="path">The file to write.</param>
    public void SaveCsv(string path) => File.WriteAllText(path, ToCsv());

    /// <summary>
    /// An SVG chart of <paramref name="metric"/> per epoch: the training curve, and the validation curve when the run
    /// had a validation set.
    /// </summary>
    /// <param name="metric">What to plot. Default: accuracy.</param>
    /// <param name="title">Chart title. Default: the metric's name and the number of epochs.</param>
    /// <exception cref="InvalidOperationException">The history is empty.</exception>
    public string ToSvg(ResNetTrainingMetric metric = ResNetTrainingMetric.Accuracy, string? title = null)
    {
        if (_epochs.Length == 0)
            throw new InvalidOperationException("The training history is empty: there is nothing to plot.");
        (string label, Func<ResNetEpochReport, double> training, Func<ResNetEpochReport, double?> validation) = metric switch
        {
            ResNetTrainingMetric.Accuracy => ("accuracy", e => e.TrainingAccuracy, e => e.ValidationAccuracy),
            ResNetTrainingMetric.Loss => ("loss", (Func<ResNetEpochReport, double>)(e => e.TrainingLoss), (Func<ResNetEpochReport, double?>)(e => e.ValidationLoss)),
            _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown metric."),
        };
        var lines = new List<SvgLineChart.Series>
        {
            new("training", _epochs.Select(e => ((double)e.Epoch, training(e), double.NaN)).ToArray(), Emphasised: true),
        };
        if (_epochs.Any(e => validation(e) is not null))
            lines.Add(new("validation", _epochs.Select(e => ((double)e.Epoch, validation(e) ?? double.NaN, double.NaN)).ToArray()));

        double yMax = metric == ResNetTrainingMetric.Accuracy ? 1
            : lines.SelectMany(l => l.Points).Select(p => p.Y).Where(double.IsFinite).DefaultIfEmpty(1).Max() * 1.05;
        var chart = new SvgLineChart
        {
            Title = title ?? $"Training {label} per epoch ({_epochs.Length} epochs)",
            XLabel = "epoch",
            YLabel = label,
            XMin = _epochs[0].Epoch - 1,
            XMax = _epochs[^1].Epoch,
            YMax = yMax > 0 ? yMax : 1,
            Lines = lines,
        };
        return chart.ToSvg();
    }

    /// <summary>Writes <see cref="ToSvg"/> to <paramref name="path"/>.</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="metric">What to plot. Default: accuracy.</param>
    /// <param name="title">Chart title. Default: the metric's name and the number of epochs.</param>
    public void SaveSvg(string path, ResNetTrainingMetric metric = ResNetTrainingMetric.Accuracy, string? title = null) =>
        File.WriteAllText(path, ToSvg(metric, title));
}
