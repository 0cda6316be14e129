using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Streams.Core;
using Streams.Kafka;
using Streams.Tests;

namespace Streams.Dispatcher.Tests;

/// <summary>The dispatcher over a real consumer group, dying between a send and its report.</summary>
public sealed class DispatcherCrashTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private sealed class KafkaDown() : Exception("Kafka went away before the result was acknowledged");

    [Fact]
    public async Task A_request_sent_but_not_reported_before_a_crash_is_reported_sent_by_the_next_member_and_not_sent_again()
    {
        using var kafka = new EmbeddedKafka();
        var topics = Topics.Default;
        EmbeddedKafka.EnsureTopics(kafka.Bootstrap, topics);
        var counters = TestCounters.Create();
        var time = new FakeTimeProvider(Now);
        var provider = new RecordingProvider();
        var campaigns = new FixedCampaigns(Build.Entry(Build.LiveYaml("{provider: fake, text: Hi}"), at: Now));
        using var producer = KafkaClients.Producer(kafka.Bootstrap);
        var request = new SmsRequest("r1", "cart", 1, "u1", Now, new RequestContext("E", Now, Props.Empty, "+919876543210", "UTC", true, Props.Empty));
        await topics.Requests.ProduceAsync(producer, request.UserId, request);
        var options = new DispatcherOptions { Kafka = new KafkaSettings(kafka.Bootstrap), Topics = topics, GroupId = "dispatcher-" + Guid.NewGuid().ToString("N")[..8] };

        DispatcherLoop Member(string owner, TestProducer results) => new(options,
            new RequestHandler(counters, new FixedProviders(provider), campaigns, time, NullLogger.Instance, owner),
            producer, new ResultWriter(results, topics), NullLogger.Instance);

        // The send is recorded; Kafka fails as its result goes out, so the request's offset is never committed.
        var crashing = new TestProducer(producer)
        {
            Before = (topic, message) =>
            {
                if (topic == topics.Results && topics.Results.Decode(message.Value).Status == ResultStatus.Sent) throw new KafkaDown();
            },
        };
        using (var run = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            await Assert.ThrowsAsync<KafkaDown>(() => Member("a", crashing).RunAsync(run.Token, CancellationToken.None));
        Assert.Equal(["r1"], provider.Calls);

        // The next member of the group gets the request again: it reports the one send and does not make another.
        using var stop = new CancellationTokenSource();
        var second = Member("b", new TestProducer(producer)).RunAsync(stop.Token, CancellationToken.None);
        var results = await Eventually.Async(() => KafkaTest.Results(kafka.Bootstrap, topics), r => r.Any(x => x.Status == ResultStatus.Sent));
        stop.Cancel();
        await second;
        var sent = Assert.Single(results);
        Assert.Equal((ResultStatus.Sent, "m-r1"), (sent.Status, sent.MessageId));
        Assert.Equal(["r1"], provider.Calls);
    }
}
