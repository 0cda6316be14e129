using Streams.Core;
using Streams.Dispatcher;
using Streams.Dispatcher.Providers;
using Streams.Kafka;

namespace Streams.Pipeline.Tests;

/// <summary>STOP, START and HELP from sms.inbound, and profile opt-outs, as the running pipeline applies them.</summary>
public sealed class OptOutTests : IDisposable
{
    private readonly PipelineFixture _f = new();

    [Fact]
    public async Task Stop_suppresses_queued_and_new_requests_start_resubscribes_and_help_gets_the_configured_reply()
    {
        var options = new StreamsOptions { StateDir = _f.StateDir, OptOut = new StreamsOptions.OptOutOptions { HelpReply = "Acme alerts. Reply STOP to opt out." } };
        using var kafka = PipelineFixture.Kafka(options);
        var topics = options.Topics;
        var client = _f.Campaigns(options);
        await client.ApplyAsync("""
            id: ping
            name: ping
            type: live
            who: {trigger: {event: Ping}}
            what: {provider: sandbox, text: "Pong"}
            """);
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Profiles,
            ("u1", """{"user_id":"u1","ts":"2026-11-01T08:00:00Z","phone":"+919876543210"}"""),
            ("u2", """{"user_id":"u2","ts":"2026-11-01T08:00:00Z","phone":"+919876543211"}"""));

        await using var host = await _f.StartAsync(options, "optout", ["ping"], ["u1", "u2"]);

        // u1 texts STOP (in lower case, from the number written another way); u2 opts out through its profile.
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Inbound,
            ("+919876543210", """{"id":"in-1","provider":"sandbox","from":"+91 98765 43210","body":" stop ","received_at":"2026-12-01T09:59:00Z"}"""),
            ("+919876543210", """{"id":"in-2","provider":"sandbox","from":"+919876543210","to":"+14155550100","body":"HELP","received_at":"2026-12-01T09:59:01Z"}"""),
            ("+919876543210", """{"id":"in-2","provider":"sandbox","from":"+919876543210","to":"+14155550100","body":"HELP","received_at":"2026-12-01T09:59:01Z"}"""),
            ("x", """{"id":"in-3","provider":"sandbox"}"""));
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Profiles,
            ("u2", """{"user_id":"u2","ts":"2026-12-01T09:59:00Z","sms_opt_in":false}"""));
        await PipelineFixture.Eventually(() => host.Counters.OptedOutAsync([["phone:+919876543210"], ["user:u2"]]), o => o.All(x => x));

        // A request queued before the STOP (its snapshot says opted in), and new events.
        var queued = new SmsRequest("queued-1", "ping", 1, "u1", PipelineFixture.Start,
            new RequestContext("Ping", PipelineFixture.Start, Props.Empty, "+919876543210", null, true, Props.Empty));
        using (var producer = new Confluent.Kafka.ProducerBuilder<string, byte[]>(new Confluent.Kafka.ProducerConfig { BootstrapServers = kafka.Bootstrap }).Build())
            await producer.ProduceAsync(topics.Requests, new Confluent.Kafka.Message<string, byte[]> { Key = "u1", Value = Codecs.SmsRequest.Encode(queued) });
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Events,
            ("u1", """{"user_id":"u1","name":"Ping","ts":"2026-12-01T10:00:00Z"}"""),
            ("u2", """{"user_id":"u2","name":"Ping","ts":"2026-12-01T10:00:00Z"}"""));
        var results = await PipelineFixture.Eventually(() => Task.FromResult(PipelineFixture.Results(kafka.Bootstrap, topics).Where(r => r.CampaignId == "ping").ToList()), r => r.Count >= 3);
        Assert.All(results, r => Assert.Equal((ResultStatus.Suppressed, Reasons.OptedOut), (r.Status, r.Reason)));

        // START re-subscribes the number.
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Inbound,
            ("+919876543210", """{"id":"in-4","provider":"sandbox","from":"+919876543210","body":"Start","received_at":"2026-12-01T10:01:00Z"}"""));
        await PipelineFixture.Eventually(() => host.Counters.OptedOutAsync([["phone:+919876543210"]]), o => !o[0]);
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Events, ("u1", """{"user_id":"u1","name":"Ping","ts":"2026-12-01T10:02:00Z"}"""));
        results = await PipelineFixture.Eventually(() => Task.FromResult(PipelineFixture.Results(kafka.Bootstrap, topics).Where(r => r.CampaignId == "ping").ToList()), r => r.Count >= 4);
        Assert.Equal(ResultStatus.Sent, results.Single(r => r.RequestId == RequestIds.ForTrigger("ping", "u1", "Ping", new DateTimeOffset(2026, 12, 1, 10, 2, 0, TimeSpan.Zero))).Status);

        // HELP was answered once (the duplicate delivery of in-2 was not), the broken inbound message is dead-lettered.
        var outbox = File.ReadAllLines(host.OutboxPath).Select(l => SandboxProvider.TryRead(l)!).ToList();
        var help = Assert.Single(outbox, l => l.CampaignId == ConsentLoop.HelpCampaign);
        Assert.Equal(("+919876543210", "+14155550100", "Acme alerts. Reply STOP to opt out."), (help.To, help.From, help.Text));
        var dead = Assert.Single(PipelineFixture.ReadAll(kafka.Bootstrap, topics.Dlq));
        Assert.Equal("consent", System.Text.Encoding.UTF8.GetString(dead.Message.Headers.GetLastBytes(DlqHeaders.Stage)));
    }

    public void Dispose() => _f.Dispose();
}
