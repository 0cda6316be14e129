using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Core;
using Streams.Counters;
using Streams.Dispatcher;
using Streams.Kafka;

namespace Streams.Pipeline.Tests;

/// <summary>A counter store that lost its data, rebuilt from what sms.results says: sends, places, outcomes and claims in flight.</summary>
public sealed class CounterRebuildTests : IDisposable
{
    private readonly PipelineFixture _f = new();

    [Fact]
    public async Task The_rebuild_restores_sends_with_their_places_refusals_and_the_claims_of_calls_that_never_came_back()
    {
        var options = new StreamsOptions { StateDir = _f.StateDir };
        using var kafka = PipelineFixture.Kafka(options);
        var now = _f.Time.GetUtcNow();
        SmsResult R(string id, string user, string status, string? reason = null, string? messageId = null, IReadOnlyList<string>? holds = null) =>
            new(id, messageId, "cart", user, status, reason, "twilio", 1, "GSM-7", now.AddMinutes(-5), holds);
        var cap = "m|cap:u1:d:2026-12-01|172800";
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = kafka.Bootstrap }).Build())
        {
            foreach (var r in new[]
            {
                R("sent-1", "u1", ResultStatus.Sending, holds: [cap]), R("sent-1", "u1", ResultStatus.Sent, messageId: "SM1", holds: [cap]),
                R("refused-1", "u2", ResultStatus.Sending), R("refused-1", "u2", ResultStatus.Failed, "provider_error: twilio 400"),
                R("lost-1", "u3", ResultStatus.Sending, holds: ["u|limit:cart|34560000"]),
                R("expired-1", "u4", ResultStatus.Expired, Reasons.NoDeliveryReport, "SM4", ["m|cap:u4:d:2026-12-01|172800"]),
            })
                await producer.ProduceAsync(options.Topics.Results, new Message<string, byte[]> { Key = r.UserId, Value = Codecs.SmsResult.Encode(r) });
        }
        await using var counters = await Streams.Tests.TestCounters.CreateAsync();
        var registry = ProviderFactory.CreateRegistry(options, _f.Time, counters);
        var guard = new CounterGuard(counters, kafka.Bootstrap, options.Topics, registry, _f.Time, NullLogger.Instance, "rebuilder");

        var (sends, _) = await guard.RebuildAsync(CancellationToken.None);

        Assert.Equal(4, sends);
        var dayCap = new Slot(CounterKind.Messages, "cap:u1:d:2026-12-01", 1, TimeSpan.FromDays(2), Reasons.FrequencyCapped);
        var answers = await counters.HandOverAsync(
        [
            new HandOver("sent-1", "u1", []), new HandOver("refused-1", "u2", []), new HandOver("lost-1", "u3", []), new HandOver("expired-1", "u4", []),
            new HandOver("next-1", "u1", [dayCap]),  // u1's place for the day is taken by sent-1
            new HandOver("next-2", "u3", [new Slot(CounterKind.Users, "limit:cart", 1, TimeSpan.FromDays(400), Reasons.LimitReached)]),
        ], "a", 6, now, TimeSpan.FromDays(7));
        Assert.Equal(
            [HandOverState.Sent, HandOverState.Outcome, HandOverState.ClaimedByOther, HandOverState.Sent, HandOverState.Denied, HandOverState.Won],
            answers.Select(a => a.State));
        Assert.Equal("failed|provider_error: twilio 400", answers[1].Detail);
        Assert.Equal(("lost", now.AddMinutes(-5)), (answers[2].ClaimedBy, answers[2].ClaimedAt!.Value));
    }

    public void Dispose() => _f.Dispose();
}
