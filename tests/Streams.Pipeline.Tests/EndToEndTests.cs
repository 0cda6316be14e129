using Streams.Analytics;
using Streams.Core;
using Streams.Dispatcher.Providers;
using Streams.Tests;
using Streams.Kafka;

namespace Streams.Pipeline.Tests;

/// <summary>
/// The thin path through every stage: campaign apply → profiles and events → topology → dispatcher
/// → sandbox outbox → sms.results → analytics → funnel. Run twice: fully embedded, and on the mock
/// cluster with real Redis and real ClickHouse.
/// </summary>
public sealed class EndToEndTests : IDisposable
{
    private readonly PipelineFixture _f = new();

    private const string Spec = """
        id: cart
        name: Abandoned cart
        type: live
        who:
          trigger:
            event: Added To Cart
            where: [{prop: value, op: gte, value: 500}]
        what:
          provider: sandbox
          from: "+14155550100"
          text: "Hi {{ profile.first_name | default: 'there' }}, your {{ event.product }} is waiting"
        goal:
          conversion: {event: Charged, within: 1h, value: value}
        """;

    private static readonly (string, string)[] Profiles =
    [
        ("u1", """{"user_id":"u1","ts":"2026-11-01T08:00:00Z","phone":"+919876543210","sms_opt_in":true,"props":{"first_name":"Asha"}}"""),
        ("u2", """{"user_id":"u2","ts":"2026-11-01T08:00:00Z","sms_opt_in":true}"""),
        ("u3", """{"user_id":"u3","ts":"2026-11-01T08:00:00Z","phone":"+919876543213","sms_opt_in":false}"""),
        ("u4", """{"user_id":"u4","ts":"2026-11-01T08:00:00Z","phone":"+919876543214"}"""),
        ("u5", """{"user_id":"u5","ts":"2026-11-01T08:00:00Z","phone":"+919876543215"}"""),
        ("u6", """{"user_id":"u6","ts":"2026-11-01T08:00:00Z","phone":"+919876543216"}"""),
    ];

    private static readonly (string, string)[] Events =
    [
        ("u1", """{"user_id":"u1","name":"Added To Cart","ts":"2026-12-01T09:59:00Z","props":{"product":"Shoes","value":799.0}}"""),
        ("u2", """{"user_id":"u2","name":"Added To Cart","ts":"2026-12-01T09:59:00Z","props":{"product":"Hat","value":600}}"""),
        ("u3", """{"user_id":"u3","name":"Added To Cart","ts":"2026-12-01T09:59:00Z","props":{"product":"Hat","value":600}}"""),
        ("u4", """{"user_id":"u4","name":"Added To Cart","ts":"2026-12-01T09:59:00Z","props":{"product":"Sock","value":100}}"""),
        ("u5", """{"user_id":"u5","name":"Added To Cart","ts":"2026-12-01T09:59:00Z","props":{"product":"Bag","value":500}}"""),
        ("u6", """{"user_id":"u6","name":"Added To Cart","ts":"2026-12-01T09:59:00Z","props":{"value":900}}"""),
        ("u1", """{"user_id":"u1","name":"Charged","ts":"2026-12-01T09:59:30Z","props":{"value":799.0}}"""),
        ("u1", """not json at all"""),
    ];

    [Fact]
    public Task Embedded_pipeline_sends_suppresses_and_reports_exactly_the_expected_results() =>
        RunScenario(new StreamsOptions { StateDir = _f.StateDir });

    [Fact]
    public Task Pipeline_on_mock_kafka_with_real_redis_and_clickhouse_sends_suppresses_and_reports_exactly_the_expected_results() =>
        RunScenario(new StreamsOptions
        {
            StateDir = _f.StateDir,
            Redis = Services.Redis,
            RedisPrefix = $"test-{Guid.NewGuid():N}:",
            ClickHouse = new StreamsOptions.ClickHouseOptions { Url = Services.ClickHouse, Database = "e2e_" + Guid.NewGuid().ToString("N")[..12] },
        });

    private async Task RunScenario(StreamsOptions options)
    {
        using var kafka = new EmbeddedKafka();
        options.Kafka.Bootstrap = kafka.Bootstrap;
        EmbeddedKafka.EnsureTopics(kafka.Bootstrap, options.Topics);
        var topics = options.Topics;

        var client = new CampaignClient(kafka.Bootstrap, topics, _f.Time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var applied = await client.ApplyAsync(Spec);
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Profiles, Profiles);

        await using var host = await PipelineHost.StartAsync(options, _f.Loggers, _f.Time,
            new PipelineHostOptions { ApplicationId = "e2e-" + Guid.NewGuid().ToString("N")[..8] });
        await host.WaitForCampaignAsync("cart", applied.Record.Version, TimeSpan.FromSeconds(60));
        foreach (var (user, _) in Profiles) await host.WaitForProfileAsync(user, TimeSpan.FromSeconds(60));
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Events, Events);
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Requests, ("u9", """{"request_id":"r9","campaign_id":"cart"}"""));

        // Five requests (u4's cart is under the filter, Charged is not a trigger): each gets a result.
        var first = await PipelineFixture.Eventually(() => Task.FromResult(PipelineFixture.Results(kafka.Bootstrap, topics)), r => r.Count >= 5);
        Assert.True(first.Count == 5, string.Join("\n", first));
        var sent = Outbox(host);
        Assert.True(sent.Count == 2, string.Join("\n", first));
        Assert.Equal(["u1", "u5"], sent.Select(l => l.UserId).Order());
        Assert.Equal("Hi Asha, your Shoes is waiting", sent.Single(l => l.UserId == "u1").Text);
        Assert.Equal("Hi there, your Bag is waiting", sent.Single(l => l.UserId == "u5").Text);
        Assert.All(sent, l => Assert.Equal(("+14155550100", "GSM-7", 1), (l.From!, l.Encoding, l.Segments)));
        Assert.All(sent, l => Assert.Equal(PipelineFixture.Start, l.At));

        // The sandbox reports delivery a second later on the virtual clock.
        _f.Time.Advance(TimeSpan.FromSeconds(1));
        var results = await PipelineFixture.Eventually(() => Task.FromResult(PipelineFixture.Results(kafka.Bootstrap, topics)), r => r.Count >= 7);
        Assert.Equal(7, results.Count);
        var byUser = results.GroupBy(r => r.UserId).ToDictionary(g => g.Key, g => g.Select(r => (r.Status, r.Reason)).ToList());
        Assert.Equal([(ResultStatus.Sent, null), (ResultStatus.Delivered, null)], byUser["u1"]);
        Assert.Equal([(ResultStatus.Sent, null), (ResultStatus.Delivered, null)], byUser["u5"]);
        Assert.Equal([(ResultStatus.Suppressed, Reasons.InvalidPhone)], byUser["u2"]);
        Assert.Equal([(ResultStatus.Suppressed, Reasons.OptedOut)], byUser["u3"]);
        Assert.Equal([(ResultStatus.Suppressed, Reasons.RenderFailed)], byUser["u6"]);
        Assert.Equal(PipelineFixture.Start.AddSeconds(1), results.Single(r => r is { UserId: "u1", Status: ResultStatus.Delivered }).Ts);
        Assert.All(results.Where(r => r.UserId is "u1" or "u5"), r => Assert.Equal("sbx-" + r.RequestId, r.MessageId));

        // The malformed event and the malformed request are in sms.dlq, each with the stage that refused it.
        // The dispatcher dead-letters its record when it reads it, which may be after the results above.
        var dead = (await PipelineFixture.Eventually(() => Task.FromResult(PipelineFixture.ReadAll(kafka.Bootstrap, topics.Dlq)), d => d.Count >= 2))
            .Select(d => (Stage: Header(d, DlqHeaders.Stage), Reason: Header(d, DlqHeaders.Reason), Source: Header(d, DlqHeaders.SourceTopic),
                Value: System.Text.Encoding.UTF8.GetString(d.Message.Value)))
            .OrderBy(d => d.Stage).ToList();
        Assert.Equal(2, dead.Count);
        Assert.Equal(("dispatcher", "missing_field", topics.Requests), (dead[0].Stage, dead[0].Reason, dead[0].Source));
        Assert.Equal(("ingest", "unknown_format", topics.Events, "not json at all"), (dead[1].Stage, dead[1].Reason, dead[1].Source, dead[1].Value));

        var funnel = await PipelineFixture.Eventually(() => host.Analytics!.FunnelAsync("cart"), f => f.Count == 1 && f[0].Delivered == 2);
        var row = Assert.Single(funnel);
        Assert.Equal((5L, 2L, 2L, 0L, 0L), (row.Qualified, row.Sent, row.Delivered, row.Failed, row.Pending));
        Assert.Equal(new Dictionary<string, long> { [Reasons.InvalidPhone] = 1, [Reasons.OptedOut] = 1, [Reasons.RenderFailed] = 1 },
            row.Suppressed.OrderBy(kv => kv.Key).ToDictionary());

        // Live counters follow the results topic (a report is counted right after it is written).
        var counts = await PipelineFixture.Eventually(() => host.Counters.CampaignCountsAsync("cart"), c => c.GetValueOrDefault(ResultStatus.Delivered) == 2);
        Assert.Equal(2, counts[ResultStatus.Sent]);
        Assert.Equal(2, counts[ResultStatus.Delivered]);

        // Goal events: u1 paid before its message (no conversion), u5 half an hour after its own (one, with its value).
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Events,
            ("u5", """{"user_id":"u5","name":"Charged","ts":"2026-12-01T10:30:00Z","props":{"value":500}}"""));
        var conversion = Assert.Single(await PipelineFixture.Eventually(() => Task.FromResult(PipelineFixture.ReadAll(kafka.Bootstrap, topics.Conversions)), c => c.Count >= 1));
        Assert.Equal(("cart", "u5", ExposureGroup.Treatment, 500.0, true),
            Codecs.Conversion.Decode(conversion.Message.Value) is var c ? (c.CampaignId, c.UserId, c.Cohort, c.Value, c.LastTouch) : default);
        var report = await PipelineFixture.Eventually(
            () => Analytics.Reports.Reporting.LoadAsync(host.Analytics!, new("cart"), _ => Core.Campaigns.CampaignSpecParser.ParseValid(Spec), _f.Time.GetUtcNow()),
            r => r.Campaigns.Count == 1 && r.Campaigns[0].Converted == 1);
        Assert.Equal((1L, 500.0, 0.5), (report.Campaigns[0].Converted, report.Campaigns[0].Revenue, report.Campaigns[0].ConversionRate!.Value));
    }

    private static string Header(Confluent.Kafka.ConsumeResult<string, byte[]> r, string key) =>
        System.Text.Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes(key));

    private static List<SandboxProvider.OutboxLine> Outbox(PipelineHost host) =>
        File.ReadAllLines(host.OutboxPath).Select(l => SandboxProvider.TryRead(l)!).ToList();

    public void Dispose() => _f.Dispose();
}
