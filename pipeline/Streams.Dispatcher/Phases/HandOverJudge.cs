using Microsoft.Extensions.Logging;
using Streams.Core;
using Streams.Counters;
using Streams.Dispatcher.Providers;

namespace Streams.Dispatcher.Phases;

/// <summary>
/// What the counters' answer to a hand-over means for its request: won (this owner sends it), or an outcome without
/// a send — a redelivery of a request sent or ended before, a place denied, a stop that ranks after the counters, or
/// a claim held by another attempt. Reads nothing and writes nothing.
/// </summary>
public sealed class HandOverJudge(ICampaignView campaigns, DispatchSettings settings, TimeProvider time, Outcomes outcomes, ILogger logger)
{
    /// <returns>True when the request is now this owner's to send; otherwise its result or its wait is set.</returns>
    public bool Judge(BatchItem item, HandOverResult answer, ISmsProvider provider, IDictionary<string, CampaignRecord> completed)
    {
        var request = item.Request;
        switch (answer.State)
        {
            case HandOverState.Won:
                return true;
            case HandOverState.Passed:
                item.Result = outcomes.Suppressed(request, item.Send!.After!.Reason, item.Send.After.Detail);
                return false;
            case HandOverState.Sent:
                item.Result = outcomes.SentBefore(request, answer.Detail!);
                return false;
            case HandOverState.Outcome:
                // A redelivery of a request that ended before (refused by the provider): the same outcome again.
                var bar = answer.Detail!.IndexOf('|');
                var (status, reason) = (answer.Detail[..bar], answer.Detail[(bar + 1)..]);
                var failed = status == ResultStatus.Failed;
                item.Result = outcomes.Of(request, status, reason.Length > 0 ? reason : null, null, failed ? provider.Name : null, failed ? item.Send!.Info : null);
                return false;
            case HandOverState.Ambiguous:
                item.Result = outcomes.Of(request, ResultStatus.Ambiguous, answer.Detail is { Length: > 0 } why ? why : Reasons.InterruptedAttempt, null, provider.Name, item.Send!.Info)
                    with { Holds = Holds.Of(item.Send.Slots) };
                return false;
            case HandOverState.Denied:
                if (answer.DeniedReason == Reasons.LimitReached
                    && campaigns.Get(request.CampaignId) is { Record.Status: CampaignStatus.Active, Spec.Type: Core.Campaigns.CampaignType.Live } full)
                    completed[full.Record.Id] = full.Record with { Status = CampaignStatus.Completed, UpdatedAt = time.GetUtcNow() };
                item.Result = outcomes.Suppressed(request, answer.DeniedReason!, "counter full");
                return false;
            case HandOverState.ClaimedByOther:
                return Foreign(item, answer, provider);
            default:
                throw new InvalidOperationException($"unknown hand-over state {answer.State}");
        }
    }

    /// <summary>
    /// Claimed by an attempt that recorded no outcome. A provider that keeps its own index of request ids takes a
    /// request once however often it is sent, so it is simply sent (its slots, held under this request id by the
    /// other attempt, are already this request's). Otherwise the attempt may still be with the provider: the
    /// request waits out the claim's lease and looks again; past the lease the outcome is unknown and the request
    /// ends <c>ambiguous</c>, never sent a second time.
    /// </summary>
    private bool Foreign(BatchItem item, HandOverResult answer, ISmsProvider provider)
    {
        if (provider.CanFind)
        {
            if (!item.Probe) return true;
            item.Result = outcomes.Suppressed(item.Request, item.Send!.After!.Reason, item.Send.After.Detail);
            return false;
        }
        var until = (answer.ClaimedAt ?? DateTimeOffset.UnixEpoch) + settings.ClaimLease;
        if (until > time.GetUtcNow())
        {
            logger.LogInformation("request {RequestId} is claimed by {Owner} since {At}; looking again at {Until}", item.Request.RequestId, answer.ClaimedBy, answer.ClaimedAt, until);
            item.Waiting = new ScheduledRequest(item.Request, until, RequestHandler.ClaimPending);
            return false;
        }
        logger.LogWarning("request {RequestId} was claimed by {Owner} at {At}, which recorded no outcome, and {Provider} cannot be asked; not sending again",
            item.Request.RequestId, answer.ClaimedBy, answer.ClaimedAt, provider.Name);
        outcomes.Ambiguous(item, provider.Name, Reasons.InterruptedAttempt);
        return false;
    }
}
