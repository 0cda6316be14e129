using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streams.Core;
using Streams.Counters;
using Streams.Dispatcher.Providers;
using Streams.Kafka;

namespace Streams.Dispatcher;

public sealed record ConsentOptions
{
    public required KafkaSettings Kafka { get; init; }
    public Topics Topics { get; init; } = Topics.Default;
    public string HelpReply { get; init; } = "Reply STOP to unsubscribe.";
    public string HelpProvider { get; init; } = SandboxProvider.TypeName;
    public string? HelpFrom { get; init; }
}

/// <summary>
/// Keeps consent current for every dispatcher: STOP/START from sms.inbound (by phone number) and
/// sms_opt_in from sms.profiles (by user) go into the counter store, which the dispatcher reads for
/// each batch, so an opt-out also reaches requests that are already queued. HELP gets the configured
/// reply, once per inbound message.
/// </summary>
public sealed class ConsentLoop(ConsentOptions options, ICounterStore counters, IProviderRegistry providers, IProducer<string, byte[]> producer, ResultWriter results,
    TimeProvider time, ILogger logger)
{
    public const string HelpCampaign = "_help";
    public const string GroupId = "streams-consent";

    public async Task RunAsync(CancellationToken ct)
    {
        var pipeline = new ConsumerPipeline("consent", logger)
            .DeadLetterTo(producer, options.Topics.Dlq)
            .Read(options.Topics.Inbound, Undecodable.DeadLetter, RecordCodec<InboundMessage>.DefaultMaxBytes)
            // Malformed profiles are dead-lettered by the topology; here only consent matters.
            .Read(options.Topics.Profiles, Undecodable.Skip, RecordCodec<ProfileUpdate>.DefaultMaxBytes);
        await pipeline.RunAsync(options.Kafka, GroupId, async batch =>
        {
            // Consent lives in Redis: while it is unreachable the batch waits (and is applied again: applying is idempotent).
            var wait = TimeSpan.FromMilliseconds(250);
            while (true)
            {
                try
                {
                    await HandleAsync(batch, CancellationToken.None);
                    return null;
                }
                catch (Exception e) when (e is StackExchange.Redis.RedisConnectionException or StackExchange.Redis.RedisTimeoutException)
                {
                    logger.LogWarning("consent: Redis unavailable ({Error}); retrying in {Wait}", e.Message, wait);
                    try { await Task.Delay(wait, ct); }
                    catch (OperationCanceledException) { return batch; }
                    wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
                }
            }
        }, ct);
    }

    private async Task HandleAsync(IReadOnlyList<Received> batch, CancellationToken ct)
    {
        foreach (var record in batch)
        {
            switch (record.Value)
            {
                case ProfileUpdate profile:
                    await Consent.ApplyAsync(counters, profile);
                    break;
                case InboundMessage inbound:
                    await HandleInboundAsync(inbound, ct);
                    break;
            }
        }
    }

    private async Task HandleInboundAsync(InboundMessage inbound, CancellationToken ct)
    {
        var phone = Consent.PhoneOf(inbound);
        switch (await Consent.ApplyAsync(counters, inbound))
        {
            case Keyword.Stop:
                logger.LogInformation("opt-out from {Phone}", PhoneMask.Mask(phone));
                break;
            case Keyword.Start:
                logger.LogInformation("opt-in from {Phone}", PhoneMask.Mask(phone));
                break;
            case Keyword.Help when await counters.TryMarkOnceAsync("help:" + inbound.Id, RequestHandler.KeepSendKeys):
                if (providers.Get(options.HelpProvider) is not { } provider)
                {
                    logger.LogWarning("HELP from {Phone} not answered: no provider {Provider}", PhoneMask.Mask(phone), options.HelpProvider);
                    break;
                }
                // HELP replies are messages too: they appear in results under the pseudo-campaign "_help".
                var request = new SmsRequest("help-" + inbound.Id, HelpCampaign, 0, phone, time.GetUtcNow(),
                    new RequestContext(null, null, Props.Empty, phone, null, null, Props.Empty));
                var info = SmsEncoding.Analyze(options.HelpReply);
                var outcome = await provider.SendAsync(new OutboundSms(request, phone, options.HelpFrom ?? inbound.To, options.HelpReply, info), ct);
                if (outcome is Accepted accepted)
                {
                    var now = time.GetUtcNow();
                    var delivers = provider.DeliversAfter;
                    await counters.RecordSentAsync([new SentRecord(request.RequestId, HelpCampaign, accepted.MessageId, null, null,
                        now + (delivers ?? providers.ReportTimeoutFor(provider.Name)),
                        PendingReport.Info(delivers is null ? PendingReport.Expire : PendingReport.Deliver, accepted.MessageId, request, provider.Name, info))],
                        RequestHandler.KeepSendKeys);
                }
                var result = outcome is Accepted a
                    ? new SmsResult(request.RequestId, a.MessageId, HelpCampaign, phone, ResultStatus.Sent, null, provider.Name, info.Segments, info.Encoding, time.GetUtcNow())
                    : new SmsResult(request.RequestId, null, HelpCampaign, phone, ResultStatus.Failed, (outcome as Refused)?.Reason, provider.Name, info.Segments, info.Encoding, time.GetUtcNow());
                await results.WriteAsync(result, ct);
                break;
        }
    }
}
