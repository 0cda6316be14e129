using Microsoft.Extensions.Logging;
using Streams.Core;
using Streams.Counters;

namespace Streams.Dispatcher.Phases;

/// <summary>
/// The first phase: each request's consent is read (one round trip for the batch) and the pure decision made —
/// send, wait, or stop. A request stopped here may be a redelivery of one that already ended (its campaign completed
/// or was paused since, or the user opted out): it keeps its one outcome — sent, ambiguous, or the provider's
/// refusal — instead of gaining a second one.
/// </summary>
public sealed class DecidePhase(ICounterStore counters, ICampaignView campaigns, DispatchSettings settings, TimeProvider time, Outcomes outcomes, ILogger logger)
{
    public async Task RunAsync(IReadOnlyList<BatchItem> items)
    {
        // A request for a campaign (or a version of it) this dispatcher has not read yet: the campaign was applied a
        // moment ago and reached the topology first. It is judged once the campaigns are read to where they end now.
        if (items.Any(i => campaigns.Get(i.Request.CampaignId) is not { } known || known.Record.Version < i.Request.CampaignVersion))
            await campaigns.CatchUpAsync();
        var now = time.GetUtcNow();
        var optedOut = await counters.OptedOutAsync([.. items.Select(i => SendDecision.ConsentSubjects(i.Request))]);
        for (var n = 0; n < items.Count; n++)
        {
            var item = items[n];
            switch (SendDecision.Decide(item.Request, campaigns.Get(item.Request.CampaignId), settings.Caps, settings.DefaultDnd, optedOut[n], now, settings.GlobalControl))
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
        var recorded = await counters.RecordedAsync([.. early.Select(i => i.Request.RequestId)]);
        for (var n = 0; n < early.Count; n++)
        {
            var request = early[n].Request;
            switch (recorded[n])
            {
                case { State: HandOverState.Sent, Detail: { } detail }:
                    early[n].Result = outcomes.SentBefore(request, detail);
                    break;
                case { State: HandOverState.Ambiguous } ambiguous:
                    early[n].Result = outcomes.Of(request, ResultStatus.Ambiguous, ambiguous.Detail is { Length: > 0 } why ? why : Reasons.InterruptedAttempt, null, null, null);
                    break;
                case { State: HandOverState.Outcome, Detail: { } ended } when ended.Contains('|'):
                    var bar = ended.IndexOf('|');
                    early[n].Result = outcomes.Of(request, ended[..bar], ended[(bar + 1)..] is { Length: > 0 } reason ? reason : null, null, null, null);
                    break;
            }
        }
    }
}
