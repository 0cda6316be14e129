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
