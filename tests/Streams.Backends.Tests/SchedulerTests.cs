using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Streams.Analytics;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Core.Schedules;
using Streams.Jobs.Scheduling;
using Streams.Kafka;
using Streams.Tests;

namespace Streams.Backends.Tests;

/// <summary>The scheduler on a virtual clock over a real (embedded DuckDB) analytics store: when runs happen, who gets a request, and when each is due.</summary>
public sealed class SchedulerTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Applied = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _time = new(Applied);
    private readonly MemoryRunLog _runs = new();
    private readonly MemoryRunOutput _output = new();
    private readonly RecordingAlerts _alerts = new();
    private IAnalyticsStore _store = null!;
    private readonly List<(CampaignRecord, CampaignSpec)> _campaigns = [];

    public async Task InitializeAsync()
    {
        _store = DuckDbStore.Open(Path.Combine(_dir, "analytics.duckdb"));
        await _store.MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _dir.Dispose();
    }

    private void Campaign(string yaml, DateTimeOffset? applied = null)
    {
        _campaigns.Add((Build.Campaign(yaml, at: applied ?? Applied), CampaignSpecParser.ParseValid(yaml)));
    }

    private Scheduler Scheduler(IRunLog? runs = null, int checkpointEvery = 10_000) =>
        new(_store, () => _campaigns, () => [], runs ?? _runs, _output, _alerts, _time, NullLogger.Instance) { CheckpointEvery = checkpointEvery };

    private async Task Users(int count, string? timezone = "Asia/Kolkata", string prefix = "u")
    {
        var profiles = Enumerable.Range(0, count)
            .Select(i => Build.Profile($"{prefix}{i:D4}", Applied.AddDays(-1), phone: $"+9198765{i:D5}", timezone: timezone, optIn: true))
            .ToList();
        await _store.InsertProfilesAsync(profiles);
    }

    private async Task<IReadOnlyList<RunRecord>> TickAt(DateTimeOffset at)
    {
        _time.SetUtcNow(at);
        return await Scheduler().TickAsync(CancellationToken.None);
    }

    [Fact]
    public async Task One_time_run_fires_at_its_instant_and_once()
    {
        await Users(5);
        Campaign("""
            id: launch
            name: Launch
            type: scheduled
            when: {at: "2026-12-01T10:00", timezone: Asia/Kolkata}
            what: {provider: sandbox, text: "We launched"}
            """);
        var due = new DateTimeOffset(2026, 12, 1, 4, 30, 0, TimeSpan.Zero);

        Assert.Empty(await TickAt(due.AddMilliseconds(-1)));
        var acted = await TickAt(due);
        Assert.Empty(await TickAt(due.AddSeconds(1)));
        Assert.Empty(await TickAt(due.AddDays(2)));

        var run = Assert.Single(acted);
        Assert.Equal(("launch@20261201T0430Z", RunStatus.Done, 5L, 5L), (run.RunId, run.Status, run.Qualified, run.Planned));
        Assert.Equal(due, run.Occurrence);
        Assert.Equal(5, _output.Requests.Count);
        Assert.All(_output.Requests, r => Assert.Equal(RequestIds.ForRun(run.RunId, r.UserId), r.RequestId));
        Assert.All(_output.Requests, r => Assert.Equal(due, r.CreatedAt));
        // The context carries the profile the dispatcher renders and checks.
        Assert.Equal("+919876500003", _output.Requests.Single(r => r.UserId == "u0003").Context.Phone);
    }

    [Theory]
    [InlineData("30 2 * * *", "2027-03-13T12:00:00Z", "2027-03-14T07:00:00Z|2027-03-15T06:30:00Z")] // 02:30 does not exist on 14 March: 03:00 EDT, the first minute after the gap
    [InlineData("30 1 * * *", "2027-11-06T12:00:00Z", "2027-11-07T05:30:00Z|2027-11-08T06:30:00Z")] // 01:30 happens twice on 7 November: the first (EDT), once
    public async Task Cron_across_a_DST_change_loses_no_run_and_doubles_none(string cron, string from, string expected)
    {
        await Users(2);
        var start = DateTimeOffset.Parse(from, System.Globalization.CultureInfo.InvariantCulture);
        Campaign($$"""
            id: nightly
            name: Nightly
            type: scheduled
            when: {every: {cron: "{{cron}}"}, timezone: America/New_York}
            what: {provider: sandbox, text: "Night"}
            """, applied: start);
        var runs = new List<RunRecord>();
        for (var t = start; t <= start.AddHours(44); t = t.AddMinutes(10)) runs.AddRange(await TickAt(t));

        Assert.Equal(expected.Split('|').Select(s => DateTimeOffset.Parse(s, System.Globalization.CultureInfo.InvariantCulture)), runs.Select(r => r.Occurrence));
        Assert.All(runs, r => Assert.Equal(RunStatus.Done, r.Status));
        Assert.Equal(4, _output.Requests.Select(r => r.RequestId).Distinct().Count());
    }

    private const string UserZoneCampaign = """
        id: morning
        name: Morning in your zone
        type: scheduled
        when: {at: "2026-12-01T10:00", deliver_in: user_timezone, timezone: UTC LATE}
        what: {provider: sandbox, text: "Good morning"}
        """;

    private async Task ThreeZones()
    {
        await _store.InsertProfilesAsync([
            Build.Profile("kolkata", Applied.AddDays(-1), phone: "+919876543210", timezone: "Asia/Kolkata"),
            Build.Profile("la", Applied.AddDays(-1), phone: "+14155550100", timezone: "America/Los_Angeles"),
            Build.Profile("tonga", Applied.AddDays(-1), phone: "+6767712345", timezone: "Pacific/Tongatapu"),
        ]);
    }

    [Fact]
    public async Task User_zone_run_is_planned_ahead_and_each_user_waits_for_ten_in_their_zone()
    {
        await ThreeZones();
        Campaign(UserZoneCampaign.Replace(" LATE", ""));
        // 10:00 comes first at UTC+14: 20:00Z the day before.
        var lead = new DateTimeOffset(2026, 11, 30, 20, 0, 0, TimeSpan.Zero);
        Assert.Empty(await TickAt(lead.AddSeconds(-1)));
        var run = Assert.Single(await TickAt(lead));

        Assert.Equal((RunStatus.Done, 3L, 0L), (run.Status, run.Planned, run.LateSkipped));
        Assert.Empty(_output.Requests);
        var due = _output.Waiting.ToDictionary(s => s.Request.UserId, s => s.DueAt);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 21, 0, 0, TimeSpan.Zero), due["tonga"]);   // +13:00
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 4, 30, 0, TimeSpan.Zero), due["kolkata"]);  // +05:30
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 18, 0, 0, TimeSpan.Zero), due["la"]);       // -08:00
        Assert.Equal(new Dictionary<string, long> { ["Asia/Kolkata"] = 1, ["America/Los_Angeles"] = 1, ["Pacific/Tongatapu"] = 1 }, run.Zones);
    }

    [Theory]
    [InlineData("", "skip")]
    [InlineData(", late: {grace: 1h, then: skip}", "skip")]
    [InlineData(", late: {grace: 1h, then: next_day}", "next_day")]
    [InlineData(", late: {grace: 1h, then: send_now}", "send_now")]
    public async Task Zones_already_past_follow_the_late_policy(string late, string then)
    {
        await ThreeZones();
        // Applied at 05:00Z on 1 December: Tonga's 10:00 passed 8 hours ago, Kolkata's 30 minutes ago (inside the
        // grace), Los Angeles' is 13 hours ahead.
        var now = new DateTimeOffset(2026, 12, 1, 5, 0, 0, TimeSpan.Zero);
        Campaign(UserZoneCampaign.Replace(" LATE", "") .Replace("timezone: UTC}", $"timezone: UTC{late}}}"), applied: now);
        var run = Assert.Single(await TickAt(now));

        Assert.Equal(now, _output.Requests.Single(r => r.UserId == "kolkata").CreatedAt); // within the grace: now
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 18, 0, 0, TimeSpan.Zero), _output.Waiting.Single(s => s.Request.UserId == "la").DueAt);
        switch (then)
        {
            case "skip":
                Assert.DoesNotContain(_output.Requests.Select(r => r.UserId).Concat(_output.Waiting.Select(w => w.Request.UserId)), u => u == "tonga");
                Assert.Equal((2L, 1L), (run.Planned, run.LateSkipped));
                break;
            case "next_day":
                Assert.Equal(new DateTimeOffset(2026, 12, 1, 21, 0, 0, TimeSpan.Zero), _output.Waiting.Single(s => s.Request.UserId == "tonga").DueAt);
                Assert.Equal((3L, 0L), (run.Planned, run.LateSkipped));
                break;
            default:
                Assert.Contains(_output.Requests, r => r.UserId == "tonga");
                Assert.Equal((3L, 0L), (run.Planned, run.LateSkipped));
                break;
        }
    }

    /// <summary>Evening's events are at 19:xx Kolkata, morning's at 08:xx; quiet has one event (08:30), too few of its own.</summary>
    private async Task BestTimeHistory()
    {
        await _store.InsertProfilesAsync([
            Build.Profile("evening", Applied.AddDays(-30), phone: "+919876543210", timezone: "Asia/Kolkata"),
            Build.Profile("morning", Applied.AddDays(-30), phone: "+919876543211", timezone: "Asia/Kolkata"),
            Build.Profile("quiet", Applied.AddDays(-30), phone: "+919876543212", timezone: "Asia/Kolkata"),
        ]);
        // 19:xx Kolkata is 13:30-14:29Z; 08:xx is 02:30-03:29Z. Events outside the window (23:00) do not count.
        var events = new List<UserEvent>();
        for (var d = 1; d <= 5; d++)
        {
            events.Add(Build.Event("evening", "App Opened", Applied.AddDays(-d).Date.AddHours(13).AddMinutes(45)));
            events.Add(Build.Event("evening", "App Opened", Applied.AddDays(-d).Date.AddHours(17).AddMinutes(40)));
            events.Add(Build.Event("morning", "App Opened", Applied.AddDays(-d).Date.AddHours(2).AddMinutes(40)));
        }
        events.Add(Build.Event("evening", "App Opened", Applied.AddDays(-1).Date.AddHours(8)));
        events.Add(Build.Event("quiet", "App Opened", Applied.AddDays(-2).Date.AddHours(3)));
        events.Add(Build.Event("evening", "Other", Applied.AddDays(-2).Date.AddHours(3)));
        await _store.InsertEventsAsync(events);
    }

    [Fact]
    public async Task The_estimate_shows_who_gets_an_hour_of_their_own_and_the_planned_hours()
    {
        await BestTimeHistory();
        var spec = CampaignSpecParser.ParseValid("""
            id: best
            name: Best time
            type: scheduled
            when: {at: "2026-12-01T00:00", best_time: {from: "07:00", to: "21:00", events: [App Opened]}}
            what: {provider: sandbox, text: "At your hour"}
            """);
        var e = await Pipeline.Estimates.Estimator.RunAsync(_store, spec, _ => null, null, new Pipeline.StreamsOptions(), Applied, CancellationToken.None);

        Assert.Equal((2L, 1L, "08:00"), (e.BestTime!.Personal, e.BestTime.Others, e.BestTime.Fallback));
        Assert.Equal(new Dictionary<string, long> { ["08:00"] = 2, ["19:00"] = 1 }, e.BestTime.Hours);
    }

    [Fact]
    public async Task Best_time_sends_each_user_at_their_densest_hour_and_the_rest_at_the_audiences()
    {
        await BestTimeHistory();
        Campaign("""
            id: best
            name: Best time
            type: scheduled
            when: {at: "2026-12-01T00:00", best_time: {from: "07:00", to: "21:00", events: [App Opened]}}
            what: {provider: sandbox, text: "At your hour"}
            """);
        // Planned when 07:00 on 1 December first comes (UTC+14).
        var lead = new DateTimeOffset(2026, 11, 30, 17, 0, 0, TimeSpan.Zero);
        Assert.Empty(await TickAt(lead.AddSeconds(-1)));
        Assert.Single(await TickAt(lead));

        var due = _output.Waiting.ToDictionary(s => s.Request.UserId, s => s.DueAt);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 13, 30, 0, TimeSpan.Zero), due["evening"]); // 19:00 Kolkata
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 2, 30, 0, TimeSpan.Zero), due["morning"]);  // 08:00 Kolkata
        // One event is not enough history: the audience's most active hour in the window (08:00: 6 events against 5
        // at 19:00), not the window's start.
        Assert.Equal(due["morning"], due["quiet"]);
        Assert.All(_output.Waiting, s => Assert.Equal("best_time", s.Cause));
    }

    [Fact]
    public async Task A_best_time_campaign_edited_on_the_day_of_its_run_does_not_run_that_day_again()
    {
        await Users(2);
        const string Yaml = """
            id: best
            name: Best time
            type: scheduled
            when: {every: {cron: "0 0 * * *"}, best_time: {from: "FROM", to: "21:00"}}
            what: {provider: sandbox, text: "At your hour"}
            """;
        Campaign(Yaml.Replace("FROM", "09:00"));
        // 1 December's run, at 09:00 in UTC+14 (30 November's, whose 09:00 has passed in Kolkata, comes with it, late).
        Assert.Contains(await TickAt(new DateTimeOffset(2026, 11, 30, 19, 0, 0, TimeSpan.Zero)), r => r.RunId == "best@20261130T1900Z");

        // Re-applied at 20:00Z with the window an hour earlier: 1 December's run is already made.
        _campaigns.Clear();
        Campaign(Yaml.Replace("FROM", "08:00"), applied: new DateTimeOffset(2026, 11, 30, 20, 0, 0, TimeSpan.Zero));
        Assert.Empty(await TickAt(new DateTimeOffset(2026, 11, 30, 20, 0, 1, TimeSpan.Zero)));
        // The next day's is planned at the new start.
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 18, 0, 0, TimeSpan.Zero), Assert.Single(await TickAt(new DateTimeOffset(2026, 12, 1, 18, 0, 0, TimeSpan.Zero))).Occurrence);
        Assert.Equal(4, _output.Waiting.Count);
    }

    [Fact]
    public async Task Best_time_without_any_history_sends_at_the_window_start()
    {
        await Users(2);
        Campaign("""
            id: best
            name: Best time
            type: scheduled
            when: {at: "2026-12-01T00:00", best_time: {from: "09:00", to: "21:00"}}
            what: {provider: sandbox, text: "At your hour"}
            """);
        await TickAt(new DateTimeOffset(2026, 11, 30, 19, 0, 0, TimeSpan.Zero));
        Assert.All(_output.Waiting, s => Assert.Equal(new DateTimeOffset(2026, 12, 1, 3, 30, 0, TimeSpan.Zero), s.DueAt));
        Assert.Equal(2, _output.Waiting.Count);
    }

    [Fact]
    public async Task Run_limit_takes_exactly_N_the_same_N_when_planned_again()
    {
        await Users(200);
        Campaign("""
            id: sample
            name: Sample
            type: scheduled
            who: {reach: {run_limit: 37, percent: 50}}
            when: {at: "2026-12-01T10:00"}
            what: {provider: sandbox, text: "Hi"}
            """);
        var at = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
        var run = Assert.Single(await TickAt(at));
        var first = _output.Requests.Select(r => r.UserId).ToHashSet();

        // A second scheduler that knows nothing of the first plans the same run again: the same users, the same ids.
        var again = new MemoryRunLog();
        var before = _output.Requests.Count;
        Assert.Single(await Scheduler(again).TickAsync(CancellationToken.None));
        var second = _output.Requests.Skip(before).ToList();

        Assert.Equal(37, first.Count);
        Assert.Equal(37L, run.Planned);
        Assert.Equal(200L, run.Qualified);
        Assert.Equal(200L - run.NotSampled - 37, run.OverLimit);
        Assert.All(first, u => Assert.True(Sampling.Sampled("sample", u, 50)));
        Assert.Equal(first, second.Select(r => r.UserId).ToHashSet());
        Assert.Equal(_output.Requests.Take(before).Select(r => r.RequestId).Order(), second.Select(r => r.RequestId).Order());
    }

    [Fact]
    public async Task Safety_limit_holds_the_run_alerts_and_approval_releases_it()
    {
        await Users(12);
        Campaign("""
            id: big
            name: Big
            type: scheduled
            who: {reach: {safety_limit: 10}}
            when: {at: "2026-12-01T10:00"}
            what: {provider: sandbox, text: "Hi"}
            """);
        var at = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
        var held = Assert.Single(await TickAt(at));
        Assert.Equal((RunStatus.Held, 12L, 0L), (held.Status, held.Qualified, held.Planned));
        Assert.Empty(_output.Requests);
        var alert = Assert.Single(_alerts.Raised);
        Assert.Equal((Alert.SafetyHold, "big", held.RunId), (alert.Alert.Kind, alert.Alert.CampaignId, alert.Alert.RunId));
        Assert.Equal((12L, 10L), ((long)alert.Details["audience"]!, (long)alert.Details["limit"]!));

        // Held stays held, tick after tick.
        Assert.Empty(await TickAt(at.AddMinutes(5)));
        await _runs.SaveAsync(held with { Status = RunStatus.Releasing }, CancellationToken.None);
        var released = Assert.Single(await TickAt(at.AddMinutes(6)));
        Assert.Equal((RunStatus.Done, 12L), (released.Status, released.Planned));
        Assert.Equal(12, _output.Requests.Count);
        Assert.Single(_alerts.Raised);
    }

    [Fact]
    public async Task A_run_missed_past_max_lateness_is_skipped_and_one_within_it_is_planned_late()
    {
        await Users(3);
        Campaign("""
            id: weekly
            name: Weekly
            type: scheduled
            when: {every: {cron: "0 10 * * *"}, max_lateness: 2h}
            what: {provider: sandbox, text: "Hi"}
            """);
        // Nothing ran from before 1 December 10:00 until 2 December 11:00.
        var acted = await TickAt(new DateTimeOffset(2026, 12, 2, 11, 0, 0, TimeSpan.Zero));

        Assert.Equal([RunStatus.Skipped, RunStatus.Done], acted.Select(r => r.Status));
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero), acted[0].Occurrence);
        Assert.Contains("max_lateness 2h", acted[0].Reason);
        Assert.Equal(3, _output.Requests.Count);
    }

    [Fact]
    public async Task A_planner_stopped_midway_resumes_after_its_cursor_and_plans_each_user_once()
    {
        await Users(95);
        Campaign("""
            id: resume
            name: Resume
            type: scheduled
            when: {at: "2026-12-01T10:00"}
            what: {provider: sandbox, text: "Hi"}
            """);
        _time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero));
        using var stop = new CancellationTokenSource();
        _output.Flushed = () => { if (_output.Requests.Count >= 40) stop.Cancel(); };
        await Scheduler(checkpointEvery: 20).TickAsync(stop.Token);
        var stopped = _runs.Get("resume@20261201T1000Z")!;
        Assert.Equal((RunStatus.Planned, 40L), (stopped.Status, stopped.Planned));
        Assert.Equal(_output.Requests.Max(r => r.UserId), stopped.Cursor);

        // A planner that died 7 users past its last checkpoint: those 7 are in Kafka, the cursor does not know them.
        var crashed = stopped with { Cursor = "u0032", Planned = 33, Marks = new Dictionary<string, long> { [MemoryRunOutput.Mark] = 33 } };
        await _runs.SaveAsync(crashed, CancellationToken.None);
        _output.Flushed = null;
        var done = Assert.Single(await Scheduler(checkpointEvery: 20).TickAsync(CancellationToken.None));
        Assert.Equal((RunStatus.Done, 95L), (done.Status, done.Planned));
        Assert.Equal(95, _output.Requests.Count);
        Assert.Equal(95, _output.Requests.Select(r => r.UserId).Distinct().Count());
    }

    [Fact]
    public async Task A_campaign_that_cannot_be_planned_does_not_hold_up_the_others()
    {
        await Users(3);
        Campaign("id: broken\nname: B\ntype: scheduled\nwho: {segment: {ref: nosuch}}\nwhen: {at: now}\nwhat: {provider: sandbox, text: Hi}");
        Campaign("id: fine\nname: F\ntype: scheduled\nwhen: {at: now}\nwhat: {provider: sandbox, text: Hi}");

        var acted = await TickAt(Applied);

        Assert.Equal(("fine@now", RunStatus.Done), (Assert.Single(acted).RunId, acted[0].Status));
        Assert.Equal(3, _output.Requests.Count);
    }

    [Fact]
    public async Task A_run_stopped_while_planned_stops_and_its_stop_is_its_last_record()
    {
        await Users(95);
        Campaign("id: stopme\nname: S\ntype: scheduled\nwhen: {at: now}\nwhat: {provider: sandbox, text: Hi}");
        _time.SetUtcNow(Applied);
        // The operator's stop lands while the planner is between checkpoints.
        _output.Flushed = () =>
        {
            if (_output.Requests.Count == 20 && _runs.Get("stopme@now") is { } run)
                _runs.SaveAsync(run with { Status = RunStatus.Skipped, Reason = "stopped by an operator" }, CancellationToken.None).GetAwaiter().GetResult();
        };

        await Scheduler(checkpointEvery: 20).TickAsync(CancellationToken.None);

        Assert.Equal(20, _output.Requests.Count);
        Assert.Equal(RunStatus.Skipped, _runs.Saved.Last(r => r.RunId == "stopme@now").Status);
        Assert.Empty(await Scheduler(checkpointEvery: 20).TickAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_run_resumed_before_its_first_checkpoint_does_not_produce_again_what_was_produced()
    {
        await Users(30);
        Campaign("id: early\nname: E\ntype: scheduled\nwhen: {at: now}\nwhat: {provider: sandbox, text: Hi}");
        _time.SetUtcNow(Applied);
        // A planner recorded the run (with where the partitions ended) and died after producing 7 requests.
        await _runs.SaveAsync(new RunRecord("early@now", "early", 1, Applied, RunStatus.Planned, Applied, Qualified: 30,
            Marks: new Dictionary<string, long> { [MemoryRunOutput.Mark] = 0 }), CancellationToken.None);
        foreach (var i in Enumerable.Range(0, 7))
            _output.Request(Build.Request(RequestIds.ForRun("early@now", $"u{i:D4}"), "early", $"u{i:D4}"));

        var done = Assert.Single(await Scheduler().TickAsync(CancellationToken.None));

        Assert.Equal((RunStatus.Done, 30L), (done.Status, done.Planned));
        Assert.Equal(30, _output.Requests.Count);
        Assert.Equal(30, _output.Requests.Select(r => r.UserId).Distinct().Count());
    }

    [Fact]
    public async Task An_alert_sms_alerts_refuses_still_reaches_the_webhook()
    {
        await using var hook = await LoopbackServer.StartAsync();
        var producer = new TestProducer { Before = (_, _) => throw new Confluent.Kafka.KafkaException(Confluent.Kafka.ErrorCode.Local_Transport) };
        var alerts = new Alerts(producer, Topics.Default, new Uri(hook.Url + "/hooks/streams"), new HttpClient(), NullLogger.Instance);

        await alerts.RaiseAsync(new Alert(Alert.SafetyHold, "big", "big@now", "too many", Applied), new Dictionary<string, object?>(), CancellationToken.None);

        Assert.Single(hook.Requests);
    }

    [Fact]
    public async Task Alerts_reach_the_webhook_sms_alerts_and_the_log()
    {
        await using var hook = await LoopbackServer.StartAsync();
        var produced = new List<(string Topic, Confluent.Kafka.Message<string, byte[]> Message)>();
        var producer = new TestProducer { Before = (topic, message) => produced.Add((topic, message)) };
        var alerts = new Alerts(producer, Topics.Default, new Uri(hook.Url + "/hooks/streams"), new HttpClient(), NullLogger.Instance);
        var alert = new Alert(Alert.SafetyHold, "big", "big@20261201T1000Z", "12 qualified users exceed safety_limit 10", Applied);

        await alerts.RaiseAsync(alert, new Dictionary<string, object?> { ["audience"] = 12L, ["limit"] = 10L }, CancellationToken.None);

        var received = Assert.Single(hook.Requests);
        Assert.Equal(("POST", "/hooks/streams"), (received.Method, received.PathAndQuery));
        using var body = JsonDocument.Parse(received.Body);
        Assert.Equal("safety_hold", body.RootElement.GetProperty("kind").GetString());
        Assert.Equal("big@20261201T1000Z", body.RootElement.GetProperty("run_id").GetString());
        Assert.Equal(12, body.RootElement.GetProperty("audience").GetInt64());
        Assert.Equal(10, body.RootElement.GetProperty("limit").GetInt64());
        var record = Assert.Single(produced);
        Assert.Equal((Topics.Default.Alerts.Name, "big"), (record.Topic, record.Message.Key));
        Assert.Equal(alert, Topics.Default.Alerts.Decode(record.Message.Value));
    }

    private sealed class RecordingAlerts : IAlerts
    {
        public List<(Alert Alert, IReadOnlyDictionary<string, object?> Details)> Raised { get; } = [];

        public Task RaiseAsync(Alert alert, IReadOnlyDictionary<string, object?> details, CancellationToken ct)
        {
            Raised.Add((alert, details));
            return Task.CompletedTask;
        }
    }
}
