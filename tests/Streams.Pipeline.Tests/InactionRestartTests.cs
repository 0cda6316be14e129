using Streams.Core;
using Streams.Topologies;
using Streams.Topologies.State;

namespace Streams.Pipeline.Tests;

/// <summary>Inaction timers survive a restart: the new instance restores them from the changelog and fires each once.</summary>
public sealed class InactionRestartTests : IDisposable
{
    private readonly PipelineFixture _f = new();
    private readonly string _secondStateDir = Path.Combine(Path.GetTempPath(), "streams-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task A_restart_in_the_middle_of_a_window_loses_no_inaction_or_reminder_timer_and_fires_none_twice()
    {
        var options = new StreamsOptions { StateDir = _f.StateDir };
        using var kafka = PipelineFixture.Kafka(options);
        var topics = options.Topics;
        await _f.Campaigns(options).ApplyAsync("""
            id: cart
            name: cart
            type: live
            who: {trigger: {event: Added To Cart, inaction: {event: Charged, within: 5m}}}
            what: {provider: sandbox, text: "Still thinking about it?"}
            """);
        await _f.Campaigns(options).ApplyAsync("""
            id: trip
            name: trip
            type: live
            who: {trigger: {event: Flight Booked, date: {event: Flight Booked, prop: departure, offset: -2d, at: "10:07"}}}
            what: {provider: sandbox, text: "Your flight is in two days"}
            """);
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Profiles,
            ("u1", """{"user_id":"u1","ts":"2026-11-01T08:00:00Z","phone":"+919876543210"}"""),
            ("u2", """{"user_id":"u2","ts":"2026-11-01T08:00:00Z","phone":"+919876543211"}"""),
            ("u3", """{"user_id":"u3","ts":"2026-11-01T08:00:00Z","phone":"+919876543212","timezone":"UTC"}"""));

        var appId = "inaction-restart-" + Guid.NewGuid().ToString("N")[..8];
        await using (var first = await PipelineHost.StartAsync(options, _f.Loggers, _f.Time,
            new PipelineHostOptions { Roles = PipelineRoles.Topology, ApplicationId = appId }))
        {
            await first.WaitForCampaignAsync("cart", 1, TimeSpan.FromSeconds(60));
            await first.WaitForProfileAsync("u1", TimeSpan.FromSeconds(60));
            await first.WaitForProfileAsync("u2", TimeSpan.FromSeconds(60));
            await first.WaitForProfileAsync("u3", TimeSpan.FromSeconds(60));
            await first.WaitForCampaignAsync("trip", 1, TimeSpan.FromSeconds(60));
            await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Events,
                ("u1", """{"user_id":"u1","name":"Added To Cart","ts":"2026-12-01T10:00:00Z"}"""),
                ("u2", """{"user_id":"u2","name":"Added To Cart","ts":"2026-12-01T10:01:00Z"}"""),
                ("u3", """{"user_id":"u3","name":"Flight Booked","ts":"2026-11-20T10:01:00Z","props":{"departure":"2026-12-03"}}"""));
            // The three timers are written (they reach the changelog) before the instance stops.
            string[] timers = [UserState.TimerId("cart", "u1"), UserState.TimerId("cart", "u2"), UserState.TimerId("trip", "u3")];
            await PipelineFixture.Eventually(
                () => Task.FromResult(PipelineFixture.ReadAll(kafka.Bootstrap, $"{appId}-{StoreNames.UserState}-changelog").Select(r => r.Message.Key).ToList()),
                keys => timers.All(t => keys.Any(k => k.EndsWith("|" + t, StringComparison.Ordinal))));
        }

        // A new instance with an empty state directory: everything comes back from the changelog.
        options.StateDir = _secondStateDir;
        await using var second = await PipelineHost.StartAsync(options, _f.Loggers, _f.Time, new PipelineHostOptions { ApplicationId = appId });
        await second.WaitForProfileAsync("u1", TimeSpan.FromSeconds(60));
        _f.Time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 10, 5, 0, TimeSpan.Zero));
        List<SmsResult> Sent() => PipelineFixture.Results(kafka.Bootstrap, topics).Where(r => r.Status == ResultStatus.Sent).ToList();
        var results = await PipelineFixture.Eventually(() => Task.FromResult(Sent()), r => r.Count >= 1);
        Assert.Equal(["u1"], results.Select(r => r.UserId));
        _f.Time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 10, 6, 0, TimeSpan.Zero));
        results = await PipelineFixture.Eventually(() => Task.FromResult(Sent()), r => r.Count >= 2);
        Assert.Equal(["u1", "u2"], results.Select(r => r.UserId).Order());
        // The reminder: two days before 2026-12-03, at 10:07 in the user's zone (UTC).
        _f.Time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 10, 7, 0, TimeSpan.Zero));
        results = await PipelineFixture.Eventually(() => Task.FromResult(Sent()), r => r.Count >= 3);
        Assert.Equal(["u1", "u2", "u3"], results.Select(r => r.UserId).Order());
        var requests = PipelineFixture.ReadAll(kafka.Bootstrap, topics.Requests);
        Assert.Equal(3, requests.Count);
    }

    public void Dispose()
    {
        _f.Dispose();
        try { Directory.Delete(_secondStateDir, recursive: true); } catch (IOException) { }
    }
}
