using Streams.Core;

namespace Streams.Pipeline.Tests;

/// <summary>
/// The embedded stack (no Kafka, Redis or ClickHouse configured) stopped cleanly and started again on the same
/// state dir: campaigns, reach counters, consent, waiting timers, profiles and results are all still there.
/// </summary>
public sealed class EmbeddedRestartTests : IDisposable
{
    private readonly PipelineFixture _f = new();

    [Fact]
    public async Task A_restarted_embedded_stack_keeps_its_campaigns_counters_consent_timers_and_profiles()
    {
        var options = new StreamsOptions { StateDir = _f.StateDir };
        var topics = options.Topics;
        await using (var first = await PipelineHost.StartAsync(options, _f.Loggers, _f.Time))
        {
            Assert.Equal(0, first.RestoredRecords);
            var client = new CampaignClient(first.Bootstrap, topics, _f.Time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
            await client.ApplyAsync("""
                id: welcome
                name: Welcome
                type: live
                who: {trigger: {event: Signed Up}, reach: {limit: 3}}
                what: {provider: sandbox, text: "Welcome"}
                """);
            await client.ApplyAsync("""
                id: nudge
                name: Nudge
                type: live
                who: {trigger: {event: Added To Cart, inaction: {event: Charged, within: 5m}}}
                what: {provider: sandbox, text: "Still there?"}
                """);
            await PipelineFixture.ProduceJsonAsync(first.Bootstrap, topics.Profiles,
                [.. Enumerable.Range(1, 5).Select(i => ($"u{i}", $$"""{"user_id":"u{{i}}","ts":"2026-11-01T08:00:00Z","phone":"+91987654321{{i}}"}"""))]);
            await PipelineFixture.ProduceJsonAsync(first.Bootstrap, topics.Inbound,
                ("+919876543215", """{"id":"in-1","provider":"sandbox","from":"+919876543215","body":"STOP","received_at":"2026-12-01T09:00:00Z"}"""));
            await first.WaitForCampaignAsync("welcome", 1, TimeSpan.FromSeconds(60));
            await first.WaitForCampaignAsync("nudge", 1, TimeSpan.FromSeconds(60));
            // Every profile is in the topology's store (and its changelog) before the stop: the restart is to restore them.
            foreach (var u in new[] { "u1", "u2", "u3", "u4", "u5" }) await first.WaitForProfileAsync(u, TimeSpan.FromSeconds(60));
            await PipelineFixture.ProduceJsonAsync(first.Bootstrap, topics.Events,
                ("u1", """{"user_id":"u1","name":"Signed Up","ts":"2026-12-01T10:00:00Z"}"""),
                ("u2", """{"user_id":"u2","name":"Signed Up","ts":"2026-12-01T10:00:00Z"}"""),
                ("u3", """{"user_id":"u3","name":"Added To Cart","ts":"2026-12-01T10:00:00Z"}"""));
            await PipelineFixture.Eventually(() => first.Counters.CampaignCountsAsync("welcome"), c => c.GetValueOrDefault(ResultStatus.Sent) == 2);
            await PipelineFixture.Eventually(() => first.Counters.OptedOutAsync([["phone:+919876543215"]]), o => o[0]);
            // The inaction timer is in the topology's store (and its changelog) before the stop.
            await PipelineFixture.Eventually(() => Task.FromResult(first.Analytics!.FunnelAsync().Result.Sum(f => f.Qualified)), n => n == 2);
        }

        await using var second = await PipelineHost.StartAsync(options, _f.Loggers, _f.Time);
        Assert.True(second.RestoredRecords > 0);
        await second.WaitForCampaignAsync("welcome", 1, TimeSpan.FromSeconds(60));
        // Every user's profile is back in the topology's store (restored from its changelog) before their events come.
        foreach (var u in new[] { "u3", "u4", "u5" }) await second.WaitForProfileAsync(u, TimeSpan.FromSeconds(60));
        Assert.Equal(2, (await second.Counters.CampaignCountsAsync("welcome")).GetValueOrDefault(ResultStatus.Sent));

        // Profiles (phones) come from the restored topology state; the limit of 3 counts the two sent before the stop;
        // u5's STOP is remembered.
        // u5 first, on its own: once the limit is full the campaign completes and would stop u5 for that reason instead.
        await PipelineFixture.ProduceJsonAsync(second.Bootstrap, topics.Events, ("u5", """{"user_id":"u5","name":"Signed Up","ts":"2026-12-01T10:01:00Z"}"""));
        await PipelineFixture.Eventually(() => Task.FromResult(PipelineFixture.Results(second.Bootstrap, topics).Count(r => r.UserId == "u5")), n => n == 1);
        await PipelineFixture.ProduceJsonAsync(second.Bootstrap, topics.Events,
            ("u3", """{"user_id":"u3","name":"Signed Up","ts":"2026-12-01T10:01:00Z"}"""),
            ("u4", """{"user_id":"u4","name":"Signed Up","ts":"2026-12-01T10:01:00Z"}"""));
        var welcome = await PipelineFixture.Eventually(
            () => Task.FromResult(PipelineFixture.Results(second.Bootstrap, topics).Where(r => r.CampaignId == "welcome" && r.Status != ResultStatus.Delivered).ToList()),
            r => r.Count >= 5);
        // u3 and u4 are on different partitions: which of them takes the last place is a race; one does, the other is
        // stopped by the limit.
        var outcomes = welcome.Select(r => (r.UserId, r.Status, r.Reason)).Distinct().OrderBy(r => r.UserId).ToList();
        Assert.Equal([("u1", ResultStatus.Sent, (string?)null), ("u2", ResultStatus.Sent, null)], outcomes.Take(2));
        Assert.Equal([(ResultStatus.Sent, (string?)null), (ResultStatus.Suppressed, Reasons.LimitReached)],
            outcomes.Where(o => o.UserId is "u3" or "u4").Select(o => (o.Status, o.Reason)).OrderBy(o => o.Status));
        Assert.Equal(("u5", ResultStatus.Suppressed, Reasons.OptedOut), outcomes[^1]);
        Assert.Equal(5, outcomes.Count);

        // The inaction timer set before the stop fires at its time, once.
        _f.Time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 10, 5, 0, TimeSpan.Zero));
        var nudge = await PipelineFixture.Eventually(
            () => Task.FromResult(PipelineFixture.Results(second.Bootstrap, topics).Where(r => r.CampaignId == "nudge" && r.Status == ResultStatus.Sent).ToList()),
            r => r.Count >= 1);
        Assert.Equal("u3", Assert.Single(nudge).UserId);
        var outbox = File.ReadAllLines(Path.Combine(_f.StateDir, "outbox.jsonl"));
        Assert.Equal(4, outbox.Length);
    }

    public void Dispose() => _f.Dispose();
}
