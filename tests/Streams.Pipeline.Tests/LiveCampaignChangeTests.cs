using System.Diagnostics;
using Streams.Core;
using Streams.Kafka;
using Xunit.Abstractions;

namespace Streams.Pipeline.Tests;

/// <summary>A running pipeline follows sms.campaigns: pause stops new requests and suppresses queued ones.</summary>
public sealed class LiveCampaignChangeTests(ITestOutputHelper output) : IDisposable
{
    private readonly PipelineFixture _f = new();

    private static string Spec(string id, string trigger) => $$$"""
        id: {{{id}}}
        name: {{{id}}}
        type: live
        who: {trigger: {event: {{{trigger}}}}}
        what: {provider: sandbox, text: "Hello"}
        """;

    [Fact]
    public async Task Paused_campaign_stops_matching_and_its_queued_requests_end_as_campaign_inactive()
    {
        using var kafka = new EmbeddedKafka();
        var options = new StreamsOptions { StateDir = _f.StateDir };
        options.Kafka.Bootstrap = kafka.Bootstrap;
        EmbeddedKafka.EnsureTopics(kafka.Bootstrap, options.Topics);
        var topics = options.Topics;
        var client = new CampaignClient(kafka.Bootstrap, topics, _f.Time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Profiles, ("u1", """{"user_id":"u1","ts":"2026-11-01T08:00:00Z","phone":"+919876543210"}"""));

        await using var host = await PipelineHost.StartAsync(options, _f.Loggers, _f.Time,
            new PipelineHostOptions { ApplicationId = "live-change-" + Guid.NewGuid().ToString("N")[..8] });
        var cart = await client.ApplyAsync(Spec("cart", "Added To Cart"));
        var ping = await client.ApplyAsync(Spec("ping", "Ping"));
        await host.WaitForCampaignAsync("cart", cart.Record.Version, TimeSpan.FromSeconds(60));
        await host.WaitForCampaignAsync("ping", ping.Record.Version, TimeSpan.FromSeconds(60));
        await host.WaitForProfileAsync("u1", TimeSpan.FromSeconds(60));

        var paused = await client.SetStatusAsync("cart", CampaignStatus.Paused);
        var seen = Stopwatch.StartNew();
        await host.WaitForCampaignAsync("cart", paused.Version, TimeSpan.FromSeconds(30));
        output.WriteLine($"pause visible to topology and dispatcher after {seen.ElapsedMilliseconds} ms");

        // The cart event comes before a ping on the same partition: once ping's request exists, cart's event was judged.
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Events,
            ("u1", """{"user_id":"u1","name":"Added To Cart","ts":"2026-12-01T10:00:00Z"}"""),
            ("u1", """{"user_id":"u1","name":"Ping","ts":"2026-12-01T10:00:01Z"}"""));
        // A request for the paused campaign that was already queued before the pause.
        var queued = new SmsRequest("queued-1", "cart", cart.Record.Version, "u1", PipelineFixture.Start,
            new RequestContext("Added To Cart", PipelineFixture.Start, Props.Empty, "+919876543210", null, null, Props.Empty));
        using (var producer = new Confluent.Kafka.ProducerBuilder<string, byte[]>(new Confluent.Kafka.ProducerConfig { BootstrapServers = kafka.Bootstrap }).Build())
            await producer.ProduceAsync(topics.Requests, new Confluent.Kafka.Message<string, byte[]> { Key = "u1", Value = Codecs.SmsRequest.Encode(queued) });

        var results = await PipelineFixture.Eventually(() => Task.FromResult(PipelineFixture.Results(kafka.Bootstrap, topics)), r => r.Count >= 2);
        Assert.Equal(
            [("cart", ResultStatus.Suppressed, (string?)Reasons.CampaignInactive), ("ping", ResultStatus.Sent, null)],
            results.Select(r => (r.CampaignId, r.Status, r.Reason)).OrderBy(r => r.CampaignId));
        Assert.Equal("queued-1", results.Single(r => r.CampaignId == "cart").RequestId);
        Assert.DoesNotContain(PipelineFixture.ReadAll(kafka.Bootstrap, topics.Requests),
            r => Codecs.SmsRequest.Decode(r.Message.Value) is { CampaignId: "cart", RequestId: not "queued-1" });
    }

    public void Dispose() => _f.Dispose();
}
