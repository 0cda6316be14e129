using System.Diagnostics;
using Streams.Dispatcher.Providers;
using Streams.Kafka;

namespace Streams.Dispatcher.Phases;

/// <summary>
/// Hands the won requests to their provider in one call and times it. When the shutdown deadline passes mid-call
/// what the provider did is unknown: every request of the call ends ambiguous.
/// </summary>
public sealed class SendPhase(Outcomes outcomes)
{
    /// <returns>One outcome per request, in order; null when the call was abandoned (the requests are then ambiguous).</returns>
    public async Task<IReadOnlyList<SendOutcome>?> RunAsync(string name, ISmsProvider provider, IReadOnlyList<BatchItem> won, CancellationToken abandon)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var answers = await provider.SendBatchAsync([.. won.Select(i => i.Outbound)], abandon);
            var took = Stopwatch.GetElapsedTime(started).TotalSeconds;
            foreach (var answer in answers)
            {
                Telemetry.ProviderCallDuration.Record(took, new KeyValuePair<string, object?>("provider", name),
                    new KeyValuePair<string, object?>("outcome", answer switch
                    {
                        Accepted => "accepted",
                        Refused { MayHaveBeenTaken: true } => "unclear",
                        _ => "refused",
                    }));
            }
            return answers;
        }
        catch (OperationCanceledException) when (abandon.IsCancellationRequested)
        {
            foreach (var item in won) outcomes.Ambiguous(item, provider.Name, Core.Reasons.InterruptedAttempt);
            return null;
        }
    }
}
