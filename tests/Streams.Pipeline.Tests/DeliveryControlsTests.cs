using Streams.Core;
using Streams.Tests;

namespace Streams.Pipeline.Tests;

/// <summary>Frequency caps and reach limits applied by the running dispatcher, on real Redis.</summary>
public sealed class DeliveryControlsTests : IDisposable
{
    private readonly PipelineFixture _f = new();

    private static string Spec(string id, string trigger, string extra = "") => $"""
        id: {id}
        name: {id}
        type: live
        who:
          trigger: {"{"}event: {trigger}{"}"}
        {extra}
        what: {"{"}provider: sandbox, text: "Hello from {id}"{"}"}
        """;

    [Fact]
    public async Task Caps_count_across_campaigns_except_those_that_ignore_them_and_a_reach_limit_admits_the_first_users()
    {
        var options = new StreamsOptions
        {
            StateDir = _f.StateDir,
            Redis = Services.Redis,
            RedisPrefix = $"test-{Guid.NewGuid():N}:",
            Limits = new StreamsOptions.LimitsOptions { PerUser = new StreamsOptions.PerUserOptions { Day = 2 } },
        };
        using var kafka = PipelineFixture.Kafka(options);
        var topics = options.Topics;
        var client = _f.Campaigns(options);
        foreach (var spec in new[]
        {
            Spec("alpha", "A"),
            Spec("beta", "B", "when: {global_limits: ignore}"),
            Spec("gamma", "C", "  reach: {limit: 1}"),
            Spec("delta", "D").Replace("Hello from delta", "Your {{ event.missing }}"),
        })
            await client.ApplyAsync(spec);
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Profiles,
            ("u1", """{"user_id":"u1","ts":"2026-11-01T08:00:00Z","phone":"+919876543210"}"""),
            ("u2", """{"user_id":"u2","ts":"2026-11-01T08:00:00Z","phone":"+919876543211"}"""));

        await using var host = await _f.StartAsync(options, "controls", ["alpha", "beta", "gamma", "delta"], ["u1", "u2"]);

        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Events,
            ("u1", """{"user_id":"u1","name":"A","ts":"2026-12-01T09:00:00Z"}"""),
            ("u1", """{"user_id":"u1","name":"B","ts":"2026-12-01T09:01:00Z"}"""),
            ("u1", """{"user_id":"u1","name":"A","ts":"2026-12-01T09:02:00Z"}"""),
            ("u1", """{"user_id":"u1","name":"A","ts":"2026-12-01T09:03:00Z"}"""),
            ("u1", """{"user_id":"u1","name":"C","ts":"2026-12-01T09:04:00Z"}"""),
            ("u2", """{"user_id":"u2","name":"C","ts":"2026-12-01T09:04:00Z"}"""),
            ("u1", """{"user_id":"u1","name":"D","ts":"2026-12-01T09:05:00Z"}"""),
            ("u2", """{"user_id":"u2","name":"D","ts":"2026-12-01T09:05:00Z"}"""));

        var results = await PipelineFixture.Eventually(() => Task.FromResult(PipelineFixture.Results(kafka.Bootstrap, topics)), r => r.Count >= 8);
        Assert.Equal(8, results.Count);
        string Outcome(SmsResult r) => r.Status == ResultStatus.Sent ? "sent" : r.Reason!;
        // u1's day cap is 2: the two alpha messages fill it; beta ignores global limits; the third alpha and gamma are capped.
        Assert.Equal(["sent", "sent", Reasons.FrequencyCapped],
            results.Where(r => r is { UserId: "u1", CampaignId: "alpha" }).Select(Outcome));
        Assert.Equal(["sent"], results.Where(r => r is { UserId: "u1", CampaignId: "beta" }).Select(Outcome));
        // gamma admits one user, and it is u2 whichever partition is dispatched first: if u1 comes first it is
        // capped and a denied request takes no reach slot; if u2 comes first, u1 finds the limit reached
        // (limits are checked before caps).
        Assert.Contains(results.Single(r => r is { UserId: "u1", CampaignId: "gamma" }).Reason, new[] { Reasons.FrequencyCapped, Reasons.LimitReached });
        Assert.Equal(["sent"], results.Where(r => r is { UserId: "u2", CampaignId: "gamma" }).Select(Outcome));
        // The documented order: a full counter is reported before a render failure.
        Assert.Equal([Reasons.FrequencyCapped], results.Where(r => r is { UserId: "u1", CampaignId: "delta" }).Select(Outcome));
        Assert.Equal([Reasons.RenderFailed], results.Where(r => r is { UserId: "u2", CampaignId: "delta" }).Select(Outcome));
    }

    public void Dispose() => _f.Dispose();
}

/// <summary>Two dispatchers in one consumer group, sharing Redis, against one reach limit.</summary>
public sealed class SharedLimitTests : IDisposable
{
    private readonly PipelineFixture _f = new();

    [Fact]
    public async Task Two_dispatchers_sharing_the_partitions_never_pass_a_reach_limit_and_the_campaign_completes()
    {
        var options = new StreamsOptions { StateDir = _f.StateDir, Redis = Services.Redis, RedisPrefix = $"test-{Guid.NewGuid():N}:" };
        using var kafka = PipelineFixture.Kafka(options);
        var topics = options.Topics;
        await _f.Campaigns(options).ApplyAsync("""
            id: scarce
            name: scarce
            type: live
            who: {trigger: {event: Go}, reach: {limit: 7}}
            what: {provider: sandbox, text: "You are one of seven"}
            """);
        var users = Enumerable.Range(0, 40).Select(i => $"u{i:D2}").ToArray();
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Profiles,
            users.Select((u, i) => (u, $$"""{"user_id":"{{u}}","ts":"2026-11-01T08:00:00Z","phone":"+9198765432{{i:D2}}"}""")).ToArray());

        var group = "shared-" + Guid.NewGuid().ToString("N")[..8];
        await using var topology = await PipelineHost.StartAsync(options, _f.Loggers, _f.Time,
            new PipelineHostOptions { Roles = PipelineRoles.Topology, ApplicationId = "topology-" + group });
        await topology.WaitForCampaignAsync("scarce", 1, TimeSpan.FromSeconds(60));
        foreach (var u in users) await topology.WaitForProfileAsync(u, TimeSpan.FromSeconds(60));
        await using var first = await PipelineHost.StartAsync(options, _f.Loggers, _f.Time,
            new PipelineHostOptions { Roles = PipelineRoles.Dispatcher, DispatcherGroupId = group });
        await using var second = await PipelineHost.StartAsync(options, _f.Loggers, _f.Time,
            new PipelineHostOptions { Roles = PipelineRoles.Dispatcher, DispatcherGroupId = group });

        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Events,
            users.Select(u => (u, $$"""{"user_id":"{{u}}","name":"Go","ts":"2026-12-01T09:00:00Z"}""")).ToArray());
        // The first user refused by the full limit completes the campaign; requests made before the topology saw
        // that end as limit_reached or campaign_inactive, and later events make none.
        await PipelineFixture.Eventually(() => Task.FromResult(topology.Campaigns.Get("scarce")?.Record.Status), s => s == CampaignStatus.Completed);
        var requests = PipelineFixture.ReadAll(kafka.Bootstrap, topics.Requests).Count;
        // A batch handled during the rebalance as the second dispatcher joins is redelivered: its requests are
        // decided again and their results emitted again (at least once), but never sent twice.
        var all = await PipelineFixture.Eventually(() => Task.FromResult(PipelineFixture.Results(kafka.Bootstrap, topics)),
            r => r.Select(x => x.RequestId).Distinct().Count() >= requests);
        Assert.InRange(requests, 8, 40);
        Assert.Equal(requests, all.Select(r => r.RequestId).Distinct().Count());
        Assert.All(all.GroupBy(r => r.RequestId), g => Assert.Single(g.Select(r => r.Status == ResultStatus.Sent).Distinct()));
        var results = all.DistinctBy(r => r.RequestId).ToList();
        Assert.Equal(7, results.Count(r => r.Status == ResultStatus.Sent));
        Assert.All(results.Where(r => r.Status != ResultStatus.Sent), r => Assert.Contains(r.Reason, new[] { Reasons.LimitReached, Reasons.CampaignInactive }));
        Assert.Equal(7, File.ReadAllLines(Path.Combine(_f.StateDir, "outbox.jsonl")).Length);
    }

    public void Dispose() => _f.Dispose();
}
