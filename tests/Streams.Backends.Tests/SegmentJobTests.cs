using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Streams.Analytics;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Jobs;
using Streams.Kafka;
using Streams.Tests;

namespace Streams.Backends.Tests;

/// <summary>The segment job on a virtual clock: what it publishes to sms.memberships, and when.</summary>
public sealed class SegmentJobTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Refresh = TimeSpan.FromMinutes(5);
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _time = new(T0);
    private readonly List<Membership> _published = [];
    private IAnalyticsStore _store = null!;

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

    private static (CampaignRecord Record, CampaignSpec Spec) Live(string id, string segment)
    {
        var yaml = $"id: {id}\nname: C\ntype: live\nwho: {{trigger: {{event: E}}, segment: {segment}}}\nwhat: {{provider: sandbox, text: Hi}}";
        return (Build.Campaign(yaml, at: T0), CampaignSpecParser.ParseValid(yaml));
    }

    /// <summary>Kafka refuses the membership of this user (once), as if it went away midway through a run.</summary>
    private string? _refuse;

    private SegmentJob Job(params (string Campaign, string Segment)[] live)
    {
        var producer = new TestProducer
        {
            Before = (topic, message) =>
            {
                var m = Topics.Default.Memberships.Decode(message.Value);
                if (m.UserId == _refuse)
                {
                    _refuse = null;
                    throw new Confluent.Kafka.KafkaException(Confluent.Kafka.ErrorCode.Local_Transport);
                }
                lock (_published) _published.Add(m);
            },
        };
        var campaigns = live.Select(c => Live(c.Campaign, c.Segment)).ToList();
        SavedSegment[] saved =
        [
            CampaignSpecParser.ParseSegment("id: buyers\nname: Buyers\nsegment: {did: {event: Charged, within: 1d, where: [{prop: amount, op: gte, value: 100}]}}").Segment!,
            CampaignSpecParser.ParseSegment("id: mumbai\nname: Mumbai\nsegment: {profile: {prop: city, op: eq, value: Mumbai}}").Segment!,
            CampaignSpecParser.ParseSegment("id: mumbai-buyers\nname: Mumbai buyers\nsegment: {all: [{ref: mumbai}, {ref: buyers}]}").Segment!,
        ];
        return new SegmentJob(_store, () => campaigns, () => saved, producer, Topics.Default, _time, Refresh, NullLogger.Instance);
    }

    private List<Membership> Published()
    {
        lock (_published) return [.. _published];
    }

    private Task Charged(string user, DateTimeOffset at, long amount = 500) =>
        _store.InsertEventsAsync([Build.Event(user, "Charged", at, new Dictionary<string, object?> { ["amount"] = amount })]);

    [Fact]
    public async Task Only_segments_live_campaigns_name_are_tracked_and_only_changes_are_published()
    {
        await Charged("u1", T0.AddHours(-1));
        await Charged("u2", T0.AddHours(-1), amount: 50);
        await _store.InsertProfilesAsync([Build.Profile("u1", T0.AddDays(-9), props: ("city", "Mumbai")), Build.Profile("u3", T0.AddDays(-9), props: ("city", "Mumbai"))]);
        var job = Job(("a", "{ref: mumbai-buyers}"), ("b", "{not: {ref: buyers}}"));

        Assert.Equal(1, await job.RunOnceAsync(CancellationToken.None));
        Assert.Equal([new Membership("u1", ["buyers", "mumbai-buyers"], T0)], Published());
        Assert.Equal(0, await job.RunOnceAsync(CancellationToken.None)); // nothing changed, nothing published
        Assert.Equal(["buyers", "mumbai-buyers"], SegmentJob.Tracked([Live("a", "{ref: mumbai-buyers}"), Live("b", "{not: {ref: buyers}}")]).Order());
    }

    [Fact]
    public async Task A_change_is_published_at_the_next_refresh_so_a_membership_is_never_two_refresh_periods_old()
    {
        await Charged("u1", T0.AddHours(-1));
        var job = Job(("a", "{ref: buyers}"));
        using var stop = new CancellationTokenSource();
        var running = job.RunAsync(stop.Token);
        await Eventually.Async(Published, p => p.Count == 1);
        Assert.Equal(new Membership("u1", ["buyers"], T0), Published()[0]);

        // u2 qualifies a minute later: the evaluation at T0 + 5m publishes it, 4 minutes after the change.
        _time.Advance(TimeSpan.FromMinutes(1));
        await Charged("u2", _time.GetUtcNow());
        _time.Advance(TimeSpan.FromMinutes(4));
        var second = await Eventually.Async(Published, p => p.Count == 2);
        Assert.Equal(new Membership("u2", ["buyers"], T0 + Refresh), second[1]);
        Assert.True(second[1].EvaluatedAt - T0.AddMinutes(1) < 2 * Refresh);

        // Two days on, both charges are out of the window: both leave at that evaluation, with empty sets.
        _time.Advance(TimeSpan.FromDays(2));
        var third = await Eventually.Async(Published, p => p.Count == 4);
        Assert.Equal([new Membership("u1", [], T0 + Refresh + TimeSpan.FromDays(2)), new Membership("u2", [], T0 + Refresh + TimeSpan.FromDays(2))],
            third.Skip(2).OrderBy(m => m.UserId));
        stop.Cancel();
        await running;
    }

    [Fact]
    public async Task A_restarted_job_republishes_nothing_that_is_already_in_the_topic()
    {
        await Charged("u1", T0.AddHours(-1));
        var job = Job(("a", "{ref: buyers}"));
        job.Restore([new Membership("u1", ["buyers"], T0.AddMinutes(-5)), new Membership("u9", ["buyers"], T0.AddMinutes(-5))]);

        Assert.Equal(1, await job.RunOnceAsync(CancellationToken.None));
        Assert.Equal([new Membership("u9", [], T0)], Published());
    }

    [Fact]
    public async Task A_run_that_fails_midway_publishes_what_it_missed_at_the_next_one_and_a_user_who_left_is_cleared()
    {
        await Charged("u1", T0.AddHours(-1));
        await Charged("u2", T0.AddHours(-1));
        var job = Job(("a", "{ref: buyers}"));
        _refuse = "u2";
        await Assert.ThrowsAsync<Confluent.Kafka.KafkaException>(() => job.RunOnceAsync(CancellationToken.None));
        Assert.Equal([new Membership("u1", ["buyers"], T0)], Published());

        // By the next run both charges are out of the window: u1 (published) leaves; u2 was never published, so nothing to clear.
        _time.Advance(TimeSpan.FromDays(3));
        Assert.Equal(1, await job.RunOnceAsync(CancellationToken.None));
        Assert.Equal(new Membership("u1", [], T0.AddDays(3)), Published()[^1]);
    }
}
