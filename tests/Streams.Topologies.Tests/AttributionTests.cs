using Microsoft.Extensions.Time.Testing;
using Streamiz.Kafka.Net.Mock;
using Streamiz.Kafka.Net.SerDes;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Kafka;
using Streams.Tests;
using Streams.Topologies.Attribution;

namespace Streams.Topologies.Tests;

/// <summary>Conversions credited to exposures, on a virtual clock: windows judged on event time, at most one per exposure.</summary>
public sealed class AttributionTests : IDisposable
{
    private static readonly Topics T = Topics.Default;
    private static readonly DateTimeOffset Sent = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Day = TimeSpan.FromHours(24);
    private readonly TempDir _stateDir = new();
    private readonly FakeTimeProvider _time = new(Sent);

    private static string Spec(string id, string goal) => $$$"""
        id: {{{id}}}
        name: {{{id}}}
        type: live
        who: {trigger: {event: Added To Cart}}
        what: {provider: sandbox, text: Hi}
        goal: {{{goal}}}
        """;

    private const string CartGoal = "{conversion: {event: Charged, within: 24h, where: [{prop: amount, op: gt, value: 0}], value: amount}, control_group: 10}";

    private sealed class Pipe(TopologyTestDriver driver, FakeTimeProvider time) : IDisposable
    {
        private readonly TestInputTopic<string, byte[]> _events = driver.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Events);
        private readonly TestInputTopic<string, byte[]> _results = driver.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Results);
        private readonly TestInputTopic<string, byte[]> _campaigns = driver.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Campaigns);
        private readonly TestOutputTopic<string, byte[]> _conversions = driver.CreateOutputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Conversions);

        public void Campaign(string id, string goal)
        {
            var parsed = CampaignSpecParser.Parse(Spec(id, goal));
            Assert.True(parsed.IsValid, string.Join("; ", parsed.Problems));
            _campaigns.PipeInput(id, Codecs.CampaignRecord.Encode(new CampaignRecord(id, 1, CampaignStatus.Active, parsed.ToJson(), Sent)));
        }

        public void Exposure(string campaign, string request, DateTimeOffset at, string status = ResultStatus.Sent, string? reason = null, string user = "u1") =>
            _results.PipeInput(user, Codecs.SmsResult.Encode(new SmsResult(request, null, campaign, user, status, reason, "sandbox", 1, "GSM-7", at)));

        public void Event(string name, DateTimeOffset at, double amount = 799, string user = "u1") =>
            _events.PipeInput(user, Codecs.UserEvent.Encode(new UserEvent(user, name, at, new Dictionary<string, object?> { ["amount"] = amount })));

        public void RawEvent(string user, string json) => _events.PipeInput(user, System.Text.Encoding.UTF8.GetBytes(json));

        public void Advance(TimeSpan by)
        {
            time.Advance(by);
            driver.AdvanceWallClockTime(by);
        }

        public List<ConversionRecord> Conversions() => _conversions.ReadKeyValueList().Select(r => Codecs.Conversion.Decode(r.Message.Value)).ToList();

        public int LedgerEntries() => driver.GetKeyValueStore<string, byte[]>(StoreNames.Attribution).All().Count();

        public void Dispose() => driver.Dispose();
    }

    private Pipe Start()
    {
        var driver = Drivers.Start("attribution-test", _stateDir, b => AttributionTopology.Build(b, new AttributionOptions { Time = _time, SweepEvery = TimeSpan.FromMinutes(10) }));
        var pipe = new Pipe(driver, _time);
        pipe.Campaign("cart", CartGoal);
        return pipe;
    }

    [Fact]
    public void A_goal_event_inside_the_window_is_one_conversion_with_its_value()
    {
        using var pipe = Start();
        pipe.Exposure("cart", "r1", Sent);
        pipe.Event("Charged", Sent + TimeSpan.FromHours(3), amount: 1250.5);
        var c = Assert.Single(pipe.Conversions());
        Assert.Equal(new ConversionRecord("cart", "u1", "r1", null, ExposureGroup.Treatment, Sent, "Charged", Sent + TimeSpan.FromHours(3), 1250.5, true), c);
    }

    [Fact]
    public void A_value_sent_as_text_is_read_as_a_number()
    {
        using var pipe = Start();
        pipe.Exposure("cart", "r1", Sent);
        pipe.RawEvent("u1", $$$"""{"user_id":"u1","name":"Charged","ts":"{{{Sent + TimeSpan.FromHours(1):O}}}","props":{"amount":"12.50"}}""");
        Assert.Equal(12.5, Assert.Single(pipe.Conversions()).Value);
    }

    [Fact]
    public void Exactly_at_the_window_end_counts_and_a_millisecond_after_does_not()
    {
        using var pipe = Start();
        pipe.Exposure("cart", "r1", Sent);
        pipe.Exposure("cart", "r2", Sent, user: "u2");
        pipe.Event("Charged", Sent + Day);
        pipe.Event("Charged", Sent + Day + TimeSpan.FromMilliseconds(1), user: "u2");
        Assert.Equal(["u1"], pipe.Conversions().Select(c => c.UserId));
    }

    [Fact]
    public void A_goal_event_before_the_send_is_no_conversion()
    {
        using var pipe = Start();
        pipe.Event("Charged", Sent - TimeSpan.FromMilliseconds(1));
        pipe.Exposure("cart", "r1", Sent);
        pipe.Event("Charged", Sent - TimeSpan.FromMinutes(5));
        Assert.Empty(pipe.Conversions());
    }

    [Fact]
    public void A_goal_event_that_fails_the_where_or_is_another_event_is_no_conversion()
    {
        using var pipe = Start();
        pipe.Exposure("cart", "r1", Sent);
        pipe.Event("Charged", Sent + TimeSpan.FromHours(1), amount: 0);
        pipe.Event("App Launched", Sent + TimeSpan.FromHours(1));
        Assert.Empty(pipe.Conversions());
    }

    [Fact]
    public void One_event_credits_every_campaign_whose_window_covers_it_and_marks_the_latest_exposure_last_touch()
    {
        using var pipe = Start();
        pipe.Campaign("winback", "{conversion: {event: Charged, within: 7d}}");
        pipe.Campaign("welcome", "{conversion: {event: Charged, within: 1h}}");
        pipe.Exposure("winback", "w1", Sent - TimeSpan.FromDays(2));
        pipe.Exposure("cart", "r1", Sent);
        pipe.Exposure("welcome", "x1", Sent - TimeSpan.FromHours(5)); // its 1h window is over by the event
        pipe.Event("Charged", Sent + TimeSpan.FromHours(2));
        var credited = pipe.Conversions().OrderBy(c => c.CampaignId, StringComparer.Ordinal).ToList();
        Assert.Equal([("cart", "r1", true), ("winback", "w1", false)], credited.Select(c => (c.CampaignId, c.RequestId, c.LastTouch)));
        Assert.Equal([799.0, null], credited.Select(c => c.Value)); // winback's goal names no value property
    }

    [Fact]
    public void Repeated_goal_events_count_once_per_exposure_and_a_redelivered_event_changes_nothing()
    {
        using var pipe = Start();
        pipe.Exposure("cart", "r1", Sent);
        pipe.Event("Charged", Sent + TimeSpan.FromHours(1));
        pipe.Event("Charged", Sent + TimeSpan.FromHours(2));
        pipe.Event("Charged", Sent + TimeSpan.FromHours(1));
        pipe.Exposure("cart", "r1", Sent); // the same result redelivered
        Assert.Single(pipe.Conversions());
        // A second exposure (a new request) can convert again.
        pipe.Exposure("cart", "r2", Sent + TimeSpan.FromHours(3));
        pipe.Event("Charged", Sent + TimeSpan.FromHours(4));
        Assert.Equal(["r2"], pipe.Conversions().Select(c => c.RequestId));
    }

    [Fact]
    public void A_late_event_inside_the_window_still_counts()
    {
        using var pipe = Start();
        pipe.Exposure("cart", "r1", Sent);
        // The clock is past the window's end when an event from inside it arrives.
        pipe.Advance(TimeSpan.FromHours(30));
        pipe.Event("Charged", Sent + TimeSpan.FromHours(23));
        var c = Assert.Single(pipe.Conversions());
        Assert.Equal(Sent + TimeSpan.FromHours(23), c.Ts);
    }

    [Fact]
    public void An_exposure_that_arrives_after_the_goal_event_it_covers_still_converts()
    {
        using var pipe = Start();
        pipe.Event("Charged", Sent + TimeSpan.FromMinutes(1));
        pipe.Exposure("cart", "r1", Sent);
        var c = Assert.Single(pipe.Conversions());
        Assert.Equal(("r1", Sent + TimeSpan.FromMinutes(1), true), (c.RequestId, c.Ts, c.LastTouch));
    }

    [Fact]
    public void A_control_users_held_out_moment_is_an_exposure_that_converts_like_a_send()
    {
        using var pipe = Start();
        pipe.Exposure("cart", "c1", Sent, ResultStatus.Suppressed, Reasons.ControlGroup);
        pipe.Exposure("cart", "g1", Sent, ResultStatus.Suppressed, Reasons.GlobalControl, user: "u2");
        pipe.Exposure("cart", "n1", Sent, ResultStatus.Suppressed, Reasons.OptedOut, user: "u3");
        pipe.Event("Charged", Sent + TimeSpan.FromHours(1));
        pipe.Event("Charged", Sent + TimeSpan.FromHours(1), user: "u2");
        pipe.Event("Charged", Sent + TimeSpan.FromHours(1), user: "u3");
        Assert.Equal([("u1", ExposureGroup.Control), ("u2", ExposureGroup.GlobalControl)], pipe.Conversions().Select(c => (c.UserId, c.Cohort)));
    }

    [Fact]
    public void An_exposure_that_arrives_before_its_campaign_record_is_kept_and_converts()
    {
        using var pipe = Start();
        pipe.Exposure("late-campaign", "l1", Sent);
        pipe.Campaign("late-campaign", "{conversion: {event: Charged, within: 2h}}");
        pipe.Event("Charged", Sent + TimeSpan.FromHours(1));
        Assert.Equal(["l1"], pipe.Conversions().Select(c => c.RequestId));
    }

    [Fact]
    public void A_scheduled_runs_conversion_carries_the_run_key()
    {
        using var pipe = Start();
        var request = RequestIds.ForRun("cart@20261201T1000Z", "u1");
        pipe.Exposure("cart", request, Sent);
        pipe.Event("Charged", Sent + TimeSpan.FromHours(1));
        Assert.Equal(RequestIds.RunKey("cart@20261201T1000Z"), Assert.Single(pipe.Conversions()).RunKey);
    }

    [Fact]
    public void The_ledger_expires_on_stream_time_after_the_longest_window_and_holds_nothing_for_campaigns_without_a_goal()
    {
        using var pipe = Start();
        pipe.Campaign("plain", "{control_group: 5}");
        pipe.Exposure("plain", "p1", Sent, user: "u9");
        pipe.Event("Charged", Sent, user: "u8"); // no exposure yet: it waits an hour for one that lags behind it
        pipe.Exposure("cart", "r1", Sent);
        Assert.Equal(2, pipe.LedgerEntries());
        // Records move stream time (another user's events), the clock is past them, the sweep runs every 10 minutes.
        void StreamAt(TimeSpan after)
        {
            var ahead = Sent + after + TimeSpan.FromMinutes(10) - _time.GetUtcNow();
            if (ahead > TimeSpan.Zero) pipe.Advance(ahead);
            pipe.Event("App Launched", Sent + after, user: "someone-else");
            pipe.Advance(TimeSpan.FromMinutes(10));
        }
        StreamAt(TimeSpan.FromMinutes(61));
        Assert.Equal(1, pipe.LedgerEntries());
        // The exposure is kept for its window (24h) plus the longest window (24h).
        StreamAt(TimeSpan.FromHours(48));
        Assert.Equal(1, pipe.LedgerEntries());
        StreamAt(TimeSpan.FromHours(48) + TimeSpan.FromMinutes(1));
        Assert.Equal(0, pipe.LedgerEntries());
        pipe.Event("Charged", Sent + TimeSpan.FromHours(20));
        Assert.Empty(pipe.Conversions());
    }

    [Fact]
    public void An_attribution_that_was_stopped_for_days_loses_nothing_when_it_catches_up()
    {
        using var pipe = Start();
        pipe.Exposure("cart", "r1", Sent);
        // Days pass on the clock with no records (the application was down); the sweep runs meanwhile.
        pipe.Advance(TimeSpan.FromDays(5));
        pipe.Event("Charged", Sent + TimeSpan.FromHours(2));
        Assert.Equal(["r1"], pipe.Conversions().Select(c => c.RequestId));
    }

    public void Dispose() => _stateDir.Dispose();
}
