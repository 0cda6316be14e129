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
/// Handles one request and returns its result. The order is what makes a send happen at most once:
/// decide (pure), claim the request id in the counter store, send, record the message id; a
/// redelivered request finds its claim and re-emits the result instead of sending again.
/// </summary>
public sealed class RequestHandler(
    ICounterStore counters,
    IProviderRegistry providers,
    ICampaignView campaigns,
    TimeProvider time,
    ILogger logger,
    string owner)
{
    public static readonly TimeSpan KeepSendKeys = TimeSpan.FromDays(7);

    /// <summary>Test seam: runs after the provider accepted and the send was recorded, before the result is produced.</summary>
    public Func<SmsRequest, Task>? AfterSend { get; init; }

    public async Task<SmsResult> HandleAsync(SmsRequest request, CancellationToken ct)
    {
        var entry = campaigns.Get(request.CampaignId);
        var decision = SendDecision.Decide(request, entry, time.GetUtcNow());
        if (decision is Suppress suppress)
        {
            logger.LogDebug("request {RequestId} suppressed: {Reason} ({Detail})", request.RequestId, suppress.Reason, suppress.Detail);
            await counters.IncrementAsync(request.CampaignId, "suppressed:" + suppress.Reason);
            return Result(request, ResultStatus.Suppressed, suppress.Reason, null, null, null);
        }
        var send = (Send)decision;
        var provider = providers.Get(send.Provider);
        if (provider is null)
            return Result(request, ResultStatus.Failed, $"{Reasons.ProviderError}: no provider named '{send.Provider}'", null, send.Provider, send.Info);

        var claim = await counters.ClaimAsync(request.RequestId, owner, KeepSendKeys);
        if (!claim.Won)
        {
            var messageId = claim.Previous == SendState.Sent
                ? SentDetail.Parse(claim.Detail).MessageId
                : await provider.FindAsync(request.RequestId, ct);
            if (messageId is not null)
            {
                logger.LogInformation("request {RequestId} was already sent as {MessageId}; not sending again", request.RequestId, messageId);
                await counters.MarkSentAsync(request.RequestId, new SentDetail(messageId, send.Info).ToString(), KeepSendKeys);
                await provider.ResumeAsync(request, messageId, ct);
                return Result(request, ResultStatus.Sent, null, messageId, provider.Name, send.Info);
            }
            // Claimed by an attempt that never reached the provider (it crashed before sending): safe to send.
        }

        var outcome = await provider.SendAsync(new OutboundSms(request, send.To, send.From, send.Text, send.Info), ct);
        switch (outcome)
        {
            case Accepted accepted:
                await counters.MarkSentAsync(request.RequestId, new SentDetail(accepted.MessageId, send.Info).ToString(), KeepSendKeys);
                await counters.IncrementAsync(request.CampaignId, ResultStatus.Sent);
                logger.LogDebug("sent {RequestId} to {To} via {Provider}", request.RequestId, PhoneMask.Mask(send.To), provider.Name);
                if (AfterSend is not null) await AfterSend(request);
                return Result(request, ResultStatus.Sent, null, accepted.MessageId, provider.Name, send.Info);
            case Refused refused:
                // Nothing reached the handset: give the claim back so a later attempt may send.
                await counters.ReleaseAsync(request.RequestId);
                await counters.IncrementAsync(request.CampaignId, ResultStatus.Failed);
                return Result(request, ResultStatus.Failed, refused.Reason, null, provider.Name, send.Info);
            default:
                throw new InvalidOperationException($"unknown send outcome {outcome}");
        }
    }

    private SmsResult Result(SmsRequest r, string status, string? reason, string? messageId, string? provider, SmsInfo? info) =>
        new(r.RequestId, messageId, r.CampaignId, r.UserId, status, reason, provider, info?.Segments ?? 0, info?.Encoding, time.GetUtcNow());

    /// <summary>What the send key keeps once a message is out: enough to re-emit its result after a crash.</summary>
    private sealed record SentDetail(string MessageId, SmsInfo Info)
    {
        public override string ToString() => $"{MessageId}|{Info.Segments.ToString(CultureInfo.InvariantCulture)}|{Info.Encoding}";

        public static SentDetail Parse(string? text)
        {
            var parts = (text ?? "").Split('|');
            return new SentDetail(parts[0], new SmsInfo(parts.Length > 2 ? parts[2] : "", 0,
                parts.Length > 1 && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var s) ? s : 0));
        }
    }
}
