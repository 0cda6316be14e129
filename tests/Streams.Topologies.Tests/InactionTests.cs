using System.Text;
using Microsoft.Extensions.Time.Testing;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Mock;
using Streamiz.Kafka.Net.SerDes;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Kafka;
using Streams.Topologies.LiveTrigger;
using Streams.Tests;

namespace Streams.Topologies.Tests;

/// <summary>Event A, then no event B within N: the abandoned-cart trigger, on a virtual clock.</summary>
public sealed class InactionTests : IDisposable
{
    private static readonly Topics T = Topics.Default;
    private static readonly DateTimeOffset A = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan N = TimeSpan.FromMinutes(5);
    private readonly TempDir _stateDir = new();
    private readonly FakeTimeProvider _time = new(A);

    private const string Cart = """
        id: cart
        name: Cart
        type: live
        who:
          trigger:
            event: Added To Cart
            inaction: {event: Charged, within: 5m, where: [{prop: value, op: gt, value: 0}]}
        what: {provider: sandbox, text: "Still thinking about it?"}
        """;

    /// <summary>User u1 and the cart campaign.</summary>
    private sealed class Pipe(TopologyTestDriver driver, FakeTimeProvider time) : LivePipe(driver, time)
    {
        public void Campaign(CampaignStatus status = CampaignStatus.Active, int version = 1) => Campaign("cart", Cart, status, version);

        public void Profile(string phone) => Profile("u1", phone);

        /// <summary>An event at the current virtual time.</summary>
        public void Event(string name, double value = 1) => Event("u1", name, new Dictionary<string, object?> { ["value"] = value });
    }

    private Pipe Start()
    {
        var driver = Drivers.Start("inaction-test", _stateDir, b => LiveTriggerTopology.Build(b, new LiveTriggerOptions { Time = _time }));
        var pipe = new Pipe(driver, _time);
        pipe.Campaign();
        pipe.Profile("+919876543210");
        return pipe;
    }

    [Fact]
    public void Inaction_fires_exactly_at_the_window_end_with_the_triggering_event()
    {
        using var pipe = Start();
        pipe.Event("Added To Cart", 799);
        pipe.Advance(N - TimeSpan.FromMilliseconds(1));
        Assert.Empty(pipe.Requests());
        pipe.Advance(TimeSpan.FromMilliseconds(1));
        var request = Assert.Single(pipe.Requests());
        Assert.Equal((RequestIds.ForTrigger("cart", "u1", "Added To Cart", A), 799.0, "+919876543210"),
            (request.RequestId, request.Context.EventProps["value"], request.Context.Phone));
        pipe.Advance(TimeSpan.FromHours(1));
        Assert.Empty(pipe.Requests());
    }

    [Fact]
    public void A_shorter_window_started_after_a_longer_one_fires_at_its_own_end()
    {
        using var pipe = Start();
        pipe.Campaign("browse", """
            id: browse
            name: Browse
            type: live
            who: {trigger: {event: Viewed, inaction: {event: Charged, within: 1m}}}
            what: {provider: sandbox, text: "Seen something?"}
            """);
        // The cart's timer (due at +5m) is the earliest the matcher knows of when the browse timer (+1m) is set.
        pipe.Event("Added To Cart");
        pipe.Event("Viewed");
        pipe.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(["browse"], pipe.Requests().Select(r => r.CampaignId));
        pipe.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(["cart"], pipe.Requests().Select(r => r.CampaignId));
    }

    [Fact]
    public void The_follow_up_event_a_second_before_the_end_cancels()
    {
        using var pipe = Start();
        pipe.Event("Added To Cart");
        pipe.Advance(N - TimeSpan.FromSeconds(1));
        pipe.Event("Charged", 799);
        pipe.Advance(TimeSpan.FromHours(1));
        Assert.Empty(pipe.Requests());
    }

    [Fact]
    public void The_follow_up_event_after_the_end_does_not_cancel_and_nothing_fires_twice()
    {
        using var pipe = Start();
        pipe.Event("Added To Cart");
        pipe.Advance(N);
        pipe.Event("Charged", 799);
        pipe.Advance(TimeSpan.FromHours(1));
        Assert.Single(pipe.Requests());
    }

    [Fact]
    public void A_follow_up_event_outside_its_filter_does_not_cancel()
    {
        using var pipe = Start();
        pipe.Event("Added To Cart");
        pipe.Event("Charged", 0);
        pipe.Advance(N);
        Assert.Single(pipe.Requests());
    }

    [Fact]
    public void A_second_trigger_event_restarts_the_window_from_itself()
    {
        using var pipe = Start();
        pipe.Event("Added To Cart", 100);
        pipe.Advance(TimeSpan.FromMinutes(3));
        pipe.Event("Added To Cart", 200);
        pipe.Advance(TimeSpan.FromMinutes(2));
        Assert.Empty(pipe.Requests());
        pipe.Advance(TimeSpan.FromMinutes(3));
        var request = Assert.Single(pipe.Requests());
        Assert.Equal(200.0, request.Context.EventProps["value"]);
    }

    [Fact]
    public void A_campaign_paused_while_the_timer_waits_sends_nothing_and_the_profile_is_read_at_fire_time()
    {
        using var pipe = Start();
        pipe.Event("Added To Cart");
        pipe.Campaign(CampaignStatus.Paused, 2);
        pipe.Advance(N);
        Assert.Empty(pipe.Requests());

        pipe.Campaign(CampaignStatus.Active, 3);
        pipe.Event("Added To Cart");
        pipe.Profile("+919876543299");
        pipe.Advance(N);
        var request = Assert.Single(pipe.Requests());
        Assert.Equal(("+919876543299", 3), (request.Context.Phone, request.CampaignVersion));
    }

    public void Dispose()
    {
        _stateDir.Dispose();
    }
}
