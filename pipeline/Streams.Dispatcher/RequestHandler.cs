using System.Globalization;
using Microsoft.Extensions.Logging;
using Streams.Core;
using Streams.Counters;
using Streams.Dispatcher.Providers;

namespace Streams.Dispatcher;

public interface ICampaignView
{
    CampaignEntry? Get(string campaignId);
}

/// <summary>A campaign as the dispatcher holds it: the record, its parsed spec and its template, parsed once per version.</summary>
public sealed record CampaignEntry(CampaignRecord Record, Core.Campaigns.CampaignSpec? Spec, Core.Templates.MessageTemplate? Message)
{
    public static CampaignEntry From(CampaignRecord record)
    {
        var spec = Core.Campaigns.CampaignSpecParser.Parse(record.SpecJson).Spec;
        return new CampaignEntry(record, spec, spec is null ? null : Core.Templates.MessageTemplate.Parse(spec.What.Text).Template);
    }
}

public interface IProviderRegistry
{
    ISmsProvider? Get(string name);
}

/// <summary>
/// Handles a batch of requests and returns one result per distinct request. The order is what makes a
/// send happen at most once and never past a limit: load consent → decide (pure) → claim each request id → take the
/// batch's cap and limit slots in one atomic call → stops that rank after the counters (DND discard, render,
/// segments) give the slots back → send → record the message id. A redelivered request
/// finds its claim and re-emits its result instead of sending again; a request refused by a limit or
/// by the provider gives its claim (and slots) back.
/// </summary>
public sealed class RequestHandler(
    ICounterStore counters,
    IProviderRegistry providers,
    ICampaignView campaigns,
    TimeProvider time,
    ILogger logger,
    string owner,
    FrequencyCaps? caps = null,
    DndWindow? defaultDnd = null)
{
    public static readonly TimeSpan KeepSendKeys = TimeSpan.FromDays(7);

    private readonly FrequencyCaps _caps = caps ?? FrequencyCaps.None;

    /// <summary>Test seam: runs after the provider accepted and the send was recorded, before the result is produced.</summary>
    public Func<SmsRequest, Task>? AfterSend { get; init; }

    /// <summary>What a batch produced: one result per request that ended or was sent, and the requests that wait.</summary>
    /// <summary>
    /// What a batch produced: one result per request that ended or was sent, the requests that wait, and the
    /// live campaigns whose reach limit turned out full (they complete: "first N users, then the campaign completes").
    /// </summary>
    public sealed record Output(IReadOnlyList<SmsResult> Results, IReadOnlyList<ScheduledRequest> Delayed, IReadOnlyList<CampaignRecord> Completed);

    public async Task<Output> HandleBatchAsync(IReadOnlyList<SmsRequest> batch, CancellationToken ct)
    {
        // A request id seen twice in one batch is one request.
        var requests = batch.DistinctBy(r => r.RequestId).ToList();
        var now = time.GetUtcNow();
        var results = new SmsResult?[requests.Count];
        var sends = new List<(int Index, Send Send, ISmsProvider Provider)>();
        var delayed = new List<ScheduledRequest>();
        var optedOut = await counters.OptedOutAsync(requests.Select(SendDecision.ConsentSubjects).ToList());
        var early = new List<(int Index, Suppress Suppress)>();
        for (var i = 0; i < requests.Count; i++)
        {
            var decision = SendDecision.Decide(requests[i], campaigns.Get(requests[i].CampaignId), _caps, defaultDnd, optedOut[i], now);
            if (decision is Delay delay)
            {
                logger.LogDebug("request {RequestId} waits until {Until} ({Cause})", requests[i].RequestId, delay.Until, delay.Cause);
                delayed.Add(new ScheduledRequest(requests[i], delay.Until, delay.Cause));
                continue;
            }
            if (decision is Suppress suppress)
            {
                early.Add((i, suppress));
                continue;
            }
            var send = (Send)decision;
            if (providers.Get(send.Provider) is not { } provider)
            {
                results[i] = Result(requests[i], ResultStatus.Failed, $"{Reasons.ProviderError}: no provider named '{send.Provider}'", null, send.Provider, send.Info);
                continue;
            }
            sends.Add((i, send, provider));
        }

        // A request stopped before the claims may be a redelivery of one already sent (its campaign completed or was
        // paused since, or the user opted out): it keeps its one outcome, sent, instead of gaining a second one.
        var sentBefore = early.Count == 0 ? [] : await counters.SentDetailsAsync(early.Select(e => requests[e.Index].RequestId).ToList());
        for (var e = 0; e < early.Count; e++)
        {
            var (i, suppress) = early[e];
            if (sentBefore[e] is { } detail)
            {
                var previous = SentDetail.Parse(detail);
                logger.LogInformation("request {RequestId} was already sent as {MessageId}; re-reporting it as sent", requests[i].RequestId, previous.MessageId);
                results[i] = Result(requests[i], ResultStatus.Sent, null, previous.MessageId, previous.Provider, previous.Info);
            }
            else
            {
                results[i] = await SuppressedAsync(requests[i], suppress.Reason, suppress.Detail);
            }
        }

        // Concurrent claims share one round trip to Redis.
        var claims = await Task.WhenAll(sends.Select(s => counters.ClaimAsync(requests[s.Index].RequestId, owner, KeepSendKeys)));
        var fresh = new List<(int Index, Send Send, ISmsProvider Provider)>();
        for (var n = 0; n < sends.Count; n++)
        {
            var (i, send, provider) = sends[n];
            if (claims[n].Won)
            {
                fresh.Add(sends[n]);
                continue;
            }
            var messageId = claims[n].Previous == SendState.Sent
                ? SentDetail.Parse(claims[n].Detail).MessageId
                : provider.CanFind ? await provider.FindAsync(requests[i].RequestId, ct) : null;
            if (messageId is null && claims[n].Previous != SendState.Sent && !provider.CanFind)
            {
                logger.LogWarning("request {RequestId} was claimed by an attempt that did not record its outcome and {Provider} cannot be asked; not sending again",
                    requests[i].RequestId, provider.Name);
                results[i] = Result(requests[i], ResultStatus.Failed, $"{Reasons.ProviderError}: outcome of an interrupted attempt unknown; not resent (at most once)", null, provider.Name, send.Info);
                continue;
            }
            if (messageId is not null)
            {
                logger.LogInformation("request {RequestId} was already sent as {MessageId}; not sending again", requests[i].RequestId, messageId);
                await counters.MarkSentAsync(requests[i].RequestId, new SentDetail(messageId, send.Info, provider.Name).ToString(), KeepSendKeys);
                await provider.ResumeAsync(requests[i], messageId, ct);
                results[i] = Result(requests[i], ResultStatus.Sent, null, messageId, provider.Name, send.Info);
            }
            else
            {
                // Claimed by an attempt that never reached the provider (it crashed before sending): safe to send.
                fresh.Add(sends[n]);
            }
        }

        var slotRequests = fresh.Select(f => new SlotRequest(requests[f.Index].UserId, f.Send.Slots)).ToList();
        var records = new List<Task>();
        var sent = new List<SmsRequest>();
        var grants = await counters.TakeSlotsAsync(slotRequests);
        var outbound = new List<(int N, int Index, Send Send, ISmsProvider Provider, OutboundSms Sms)>();
        var completed = new Dictionary<string, CampaignRecord>();
        for (var n = 0; n < fresh.Count; n++)
        {
            var (i, send, provider) = fresh[n];
            var request = requests[i];
            if (!grants[n].Granted)
            {
                if (grants[n].DeniedReason == Reasons.LimitReached && campaigns.Get(request.CampaignId) is { Record.Status: CampaignStatus.Active, Spec.Type: Core.Campaigns.CampaignType.Live } full)
                    completed[full.Record.Id] = full.Record with { Status = CampaignStatus.Completed, UpdatedAt = now };
                await counters.ReleaseAsync(request.RequestId);
                results[i] = await SuppressedAsync(request, grants[n].DeniedReason!, "counter full");
                continue;
            }
            if (send.After is { } after)
            {
                // Stops that rank after the counters: nothing is sent, so the claim and the slots go back.
                await counters.ReleaseAsync(request.RequestId);
                await counters.ReleaseSlotsAsync(slotRequests[n], grants[n]);
                results[i] = await SuppressedAsync(request, after.Reason, after.Detail);
                continue;
            }
            outbound.Add((n, i, send, provider, new OutboundSms(request, send.To, send.From, send.Text, send.Info)));
        }

        // One batch per provider, the providers in parallel; a provider with a batch API sends it in few calls.
        var outcomes = new Dictionary<int, SendOutcome>();
        await Task.WhenAll(outbound.GroupBy(o => o.Provider).Select(async group =>
        {
            var items = group.ToList();
            var answers = await group.Key.SendBatchAsync(items.Select(o => o.Sms).ToList(), ct);
            lock (outcomes)
            {
                for (var k = 0; k < items.Count; k++) outcomes[items[k].N] = answers[k];
            }
        }));
        foreach (var (n, i, send, provider, sms) in outbound)
        {
            var request = requests[i];
            switch (outcomes[n])
            {
                case Accepted accepted:
                    // Recorded together for the batch, before any result is produced; a crash before the record
                    // lands is covered by asking the provider for the client reference.
                    records.Add(counters.MarkSentAsync(request.RequestId, new SentDetail(accepted.MessageId, send.Info, accepted.Via ?? provider.Name).ToString(), KeepSendKeys));
                    records.Add(counters.IncrementAsync(request.CampaignId, ResultStatus.Sent));
                    // What a delivery report needs to find its request (webhooks name the provider's message id).
                    records.Add(counters.RememberAsync(MessageNote.Key(accepted.ViaKind ?? provider.Kind, accepted.MessageId),
                        new MessageNote(request.RequestId, request.CampaignId, request.UserId, accepted.Via ?? provider.Name, send.Info.Segments, send.Info.Encoding).ToString(), KeepSendKeys));
                    logger.LogDebug("sent {RequestId} to {To} via {Provider}", request.RequestId, PhoneMask.Mask(send.To), provider.Name);
                    sent.Add(request);
                    results[i] = Result(request, ResultStatus.Sent, null, accepted.MessageId, accepted.Via ?? provider.Name, send.Info);
                    break;
                case Refused refused:
                    // Nothing reached the handset: give the claim and the slots back so they count for nobody.
                    await counters.ReleaseAsync(request.RequestId);
                    await counters.ReleaseSlotsAsync(slotRequests[n], grants[n]);
                    if (refused.Reason is Reasons.OptedOut or Reasons.InvalidPhone)
                    {
                        // The provider knows better (e.g. Twilio 21610: the number sent STOP to it): remember it.
                        if (refused.Reason == Reasons.OptedOut) await counters.SetOptOutAsync("phone:" + send.To, true, now);
                        results[i] = await SuppressedAsync(request, refused.Reason, $"{provider.Name} refused the number");
                        break;
                    }
                    await counters.IncrementAsync(request.CampaignId, ResultStatus.Failed);
                    results[i] = Result(request, ResultStatus.Failed, refused.Reason, null, provider.Name, send.Info);
                    break;
                default:
                    throw new InvalidOperationException($"unknown send outcome {outcomes[n]}");
            }
        }
        await Task.WhenAll(records);
        if (AfterSend is not null)
        {
            foreach (var request in sent) await AfterSend(request);
        }
        return new Output(results.OfType<SmsResult>().ToList(), delayed, [.. completed.Values]);
    }

    private async Task<SmsResult> SuppressedAsync(SmsRequest request, string reason, string detail)
    {
        logger.LogDebug("request {RequestId} suppressed: {Reason} ({Detail})", request.RequestId, reason, detail);
        await counters.IncrementAsync(request.CampaignId, "suppressed:" + reason);
        return Result(request, ResultStatus.Suppressed, reason, null, null, null);
    }

    private SmsResult Result(SmsRequest r, string status, string? reason, string? messageId, string? provider, SmsInfo? info) =>
        new(r.RequestId, messageId, r.CampaignId, r.UserId, status, reason, provider, info?.Segments ?? 0, info?.Encoding, time.GetUtcNow());

    /// <summary>What the send key keeps once a message is out: enough to re-emit its result after a crash.</summary>
    private sealed record SentDetail(string MessageId, SmsInfo Info, string? Provider = null)
    {
        public override string ToString() => $"{MessageId}|{Info.Segments.ToString(CultureInfo.InvariantCulture)}|{Info.Encoding}|{Provider}";

        public static SentDetail Parse(string? text)
        {
            var parts = (text ?? "").Split('|');
            return new SentDetail(parts[0], new SmsInfo(parts.Length > 2 ? parts[2] : "", 0,
                parts.Length > 1 && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var s) ? s : 0),
                parts.Length > 3 && parts[3].Length > 0 ? parts[3] : null);
        }
    }
}
