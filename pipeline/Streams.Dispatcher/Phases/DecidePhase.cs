using Microsoft.Extensions.Logging;
using Streams.Core;
using Streams.Counters;

namespace Streams.Dispatcher.Phases;

/// <summary>
/// The first phase: each request's consent is read (one round trip for the batch) and the pure decision made —
/// send, wait, or stop. A request stopped here may be a redelivery of one already sent (its campaign completed or
/// was paused since, or the user opted out): it keeps its one outcome, sent, instead of gaining a second one.
/// </summary>
public sealed class DecidePhase(ICounterStore counters, ICampaignView campaigns, DispatchSettings settings, TimeProvider time, Outcomes outcomes, ILogger logger)
{
    public async Task RunAsync(IReadOnlyList<BatchItem> items)
    {
        var now = time.GetUtcNow();
        var optedOut = await counters.OptedOutAsync([.. items.Select(i => SendDecision.ConsentSubjects(i.Request))]);
        for (var n = 0; n < items.Count; n++)
        {
            var item = items[n];
            switch (SendDecision.Decide(item.Request, campaigns.Get(item.Request.CampaignId), settings.Caps, settings.DefaultDnd, optedOut[n], now))
            {
                case Delay delay:
                    logger.LogDebug("request {RequestId} waits until {Until} ({Cause})", item.Request.RequestId, delay.Until, delay.Cause);
                    item.Waiting = new ScheduledRequest(item.Request, delay.Until, delay.Cause);
                    break;
                case Suppress suppress:
                    item.Result = outcomes.Suppressed(item.Request, suppress.Reason, suppress.Detail);
                    break;
                case Send send:
                    item.Send = send;
                    break;
            }
        }
        var early = items.Where(i => i.Result is { Status: ResultStatus.Suppressed }).ToList();
        if (early.Count == 0) return;
        var sent = await counters.SentDetailsAsync([.. early.Select(i => i.Request.RequestId)]);
        for (var n = 0; n < early.Count; n++)
        {
            if (sent[n] is { } detail) early[n].Result = outcomes.SentBefore(early[n].Request, detail);
        }
    }
}
