using Microsoft.ML.Masking.Evaluation;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Masking.Tests.Evaluation;

/// <summary>Progress messages of the evaluators: settings first, then images done and time left, then the total time.</summary>
[TestClass]
public sealed class EvaluationProgressTests
{
    [TestMethod]
    public void MessagesSayHowFarAndHowLongIsLeft()
    {
        var ml = new MLContext(seed: 0);
        var messages = new List<string>();
        ml.Log += (_, e) => { if (e.Kind == ChannelMessageKind.Info) lock (messages) messages.Add(e.RawMessage); };
        using (var channel = ((IHostEnvironment)ml).Register("test").Start("progress"))
        {
            var progress = new EvaluationProgress(channel, "Feature removal", 40, "2 methods", interval: TimeSpan.Zero);
            progress.Report(10);
            progress.Report(40);
        }
        Assert.AreEqual("Feature removal: 40 images; 2 methods.", messages[0]);
        StringAssert.Matches(messages[1], new System.Text.RegularExpressions.Regex(@"^Feature removal: 10/40 images \(25%\), [0-9.]+s elapsed, about [0-9.]+s left\.$"));
        StringAssert.Matches(messages[2], new System.Text.RegularExpressions.Regex(@"^Feature removal: 40 images in [0-9.]+s\.$"));
    }
}
