using System.Text;
using Streams.Core;
using Streams.Kafka;
using Streams.Core.Campaigns;
using Streams.Pipeline.Simulation;

namespace Streams.Pipeline.Tests;

/// <summary>`streams simulate` runs the live topologies and the dispatcher's rules on a virtual clock.</summary>
public sealed class SimulatorTests
{
    private static readonly Topics T = Topics.Default;

    private const string Cart = """
        id: cart
        name: Cart
        type: live
        who:
          trigger:
            event: Added To Cart
            inaction: {event: Charged, within: 5m}
        when: {dnd: {from: "22:00", to: "09:00", action: delay}}
        what: {provider: sandbox, text: "Your {{ event.product }} is waiting"}
        """;

    private static CampaignRecord Campaign(string yaml)
    {
        var parsed = CampaignSpecParser.Parse(yaml);
        Assert.True(parsed.IsValid, string.Join("; ", parsed.Problems));
        Assert.Empty(SupportCheck.UnsupportedPaths(parsed.Spec!, parsed.Document));
        return new CampaignRecord(parsed.Spec!.Id, 1, CampaignStatus.Active, parsed.ToJson(), DateTimeOffset.UnixEpoch);
    }

    private static SimulationInput Event(string user, string name, string ts, string props = "{}") =>
        new(T.Events, user, Encoding.UTF8.GetBytes($$"""{"user_id":"{{user}}","name":"{{name}}","ts":"{{ts}}","props":{{props}}}"""), DateTimeOffset.Parse(ts));

    private static SimulationInput Profile(string user, string phone, string? timezone = null, bool optIn = true) =>
        new(T.Profiles, user, Encoding.UTF8.GetBytes(
            $$"""{"user_id":"{{user}}","ts":"2026-11-01T08:00:00Z","phone":"{{phone}}","sms_opt_in":{{(optIn ? "true" : "false")}}{{(timezone is null ? "" : $",\"timezone\":\"{timezone}\"")}}}"""),
            DateTimeOffset.Parse("2026-11-01T08:00:00Z"));

    private static DateTimeOffset At(string ts) => DateTimeOffset.Parse(ts);

    private static Task<IReadOnlyList<SimulatedOutcome>> Simulate(StreamsOptions options, IEnumerable<string> campaigns, IEnumerable<SimulationInput> inputs, string? to = null) =>
        new Simulator(options).RunAsync(campaigns.Select(Campaign).ToList(), inputs.ToList(), null, to is null ? null : At(to), CancellationToken.None);

    private static readonly SimulationInput[] CartDay =
    [
        Profile("u1", "+919876543210", "Asia/Kolkata"),
        Profile("u2", "+919876543211"),
        Profile("u3", "+14155550101", "Asia/Kolkata"),
        Profile("u4", "+14155550102", "Asia/Kolkata"),
        Event("u1", "Added To Cart", "2026-12-01T10:00:00Z", """{"product":"Shoes"}"""),
        Event("u2", "Added To Cart", "2026-12-01T10:01:00Z", """{"product":"Hat"}"""),
        Event("u2", "Charged", "2026-12-01T10:05:59Z"),
        Event("u3", "Added To Cart", "2026-12-01T17:00:00Z", """{"product":"Bag"}"""),
        Event("u4", "Added To Cart", "2026-12-01T18:00:00Z", """{"product":"Cap"}"""),
    ];

    [Fact]
    public async Task Simulate_fires_inaction_at_the_window_end_and_holds_dnd_until_the_users_morning()
    {
        var outcomes = await Simulate(new StreamsOptions(), [Cart], CartDay, to: "2026-12-02T12:00:00Z");

        Assert.Equal(
        [
            ("u1", "sent", (string?)null, At("2026-12-01T10:05:00Z"), (string?)"Your Shoes is waiting", (string?)"+919876543210"),
            // 17:05 UTC is 22:35 in Kolkata: held to 09:00 local, 03:30 UTC.
            ("u3", "sent", null, At("2026-12-02T03:30:00Z"), "Your Bag is waiting", "+14155550101"),
            ("u4", "sent", null, At("2026-12-02T03:30:00Z"), "Your Cap is waiting", "+14155550102"),
        ], outcomes.Select(o => (o.UserId, o.Status, o.Reason, o.At, o.Text, o.To)).ToList());
        var carts = new Dictionary<string, string> { ["u1"] = "2026-12-01T10:00:00Z", ["u3"] = "2026-12-01T17:00:00Z", ["u4"] = "2026-12-01T18:00:00Z" };
        Assert.All(outcomes, o => Assert.Equal(RequestIds.ForTrigger("cart", o.UserId, "Added To Cart", At(carts[o.UserId])), o.RequestId));
    }

    [Fact]
    public async Task A_stop_while_a_message_waits_in_dnd_delay_suppresses_it_at_the_windows_end()
    {
        var stop = new SimulationInput(T.Inbound, "+14155550101", Encoding.UTF8.GetBytes(
            """{"id":"in1","provider":"twilio","from":"+1 415 555 0101","body":"stop","received_at":"2026-12-01T20:00:00Z"}"""), At("2026-12-01T20:00:00Z"));
        // u4 opts out by profile while its message waits.
        var optOut = new SimulationInput(T.Profiles, "u4", Encoding.UTF8.GetBytes(
            """{"user_id":"u4","ts":"2026-12-01T21:00:00Z","sms_opt_in":false}"""), At("2026-12-01T21:00:00Z"));

        var outcomes = await Simulate(new StreamsOptions(), [Cart], [.. CartDay, stop, optOut], to: "2026-12-02T12:00:00Z");

        Assert.Equal(
        [
            ("u1", "sent", (string?)null, At("2026-12-01T10:05:00Z")),
            ("u3", "suppressed", Reasons.OptedOut, At("2026-12-02T03:30:00Z")),
            ("u4", "suppressed", Reasons.OptedOut, At("2026-12-02T03:30:00Z")),
        ], outcomes.Select(o => (o.UserId, o.Status, o.Reason, o.At)).ToList());
    }

    [Fact]
    public async Task Requests_still_waiting_at_the_end_are_reported_as_scheduled_at_their_due_time()
    {
        var outcomes = await Simulate(new StreamsOptions(), [Cart], CartDay);

        Assert.Equal(
        [
            ("u1", "sent", (string?)null, At("2026-12-01T10:05:00Z")),
            ("u4", "scheduled", "inaction", At("2026-12-01T18:05:00Z")),
            ("u3", "scheduled", "dnd", At("2026-12-02T03:30:00Z")),
        ], outcomes.Select(o => (o.UserId, o.Status, o.Reason, o.At)).ToList());
    }

    private const string Promo = """
        id: promo
        name: Promo
        type: live
        who: {trigger: {event: Opened}}
        what: {provider: sandbox, text: "Promo for {{ profile.first_name | default: 'you' }}"}
        """;

    private const string Vip = """
        id: vip
        name: Vip
        type: live
        who:
          trigger: {event: Opened}
          segment: {did: {event: Charged, count: {gte: 1}, within: 7d}}
          reach: {limit: 1}
        what: {provider: sandbox, text: "VIP"}
        """;

    private static readonly SimulationInput[] Mixed =
    [
        Profile("a", "+919876543210"),
        Profile("b", "+919876543211", optIn: false),
        Profile("c", "+1555"),
        Profile("d", "+919876543213"),
        Event("a", "Charged", "2026-12-01T05:00:00Z"),
        Event("d", "Charged", "2026-12-01T05:00:00Z"),
        Event("a", "Opened", "2026-12-01T06:00:00Z"),
        Event("b", "Opened", "2026-12-01T06:01:00Z"),
        Event("c", "Opened", "2026-12-01T06:02:00Z"),
        Event("d", "Opened", "2026-12-01T06:03:00Z"),
        Event("a", "Opened", "2026-12-01T07:00:00Z"),
        // vip completed when d found its limit full: the topology makes no more vip requests.
        Event("d", "Opened", "2026-12-01T08:00:00Z"),
    ];

    [Fact]
    public async Task Simulate_applies_consent_phone_checks_segments_caps_and_reach_limits_and_completes_a_full_campaign()
    {
        var options = new StreamsOptions { Limits = new StreamsOptions.LimitsOptions { PerUser = new StreamsOptions.PerUserOptions { Day = 2 } } };
        var outcomes = await Simulate(options, [Promo, Vip], Mixed);

        var seen = outcomes.Select(o => (o.CampaignId, o.UserId, o.Status, o.Reason)).OrderBy(o => o.ToString(), StringComparer.Ordinal).ToList();
        Assert.Equal(
        [
            ("promo", "a", "sent", (string?)null),
            // a's third message of the day: promo at 07:00 after promo and vip at 06:00.
            ("promo", "a", "suppressed", "frequency_capped"),
            ("promo", "b", "suppressed", "opted_out"),
            ("promo", "c", "suppressed", "invalid_phone"),
            ("promo", "d", "sent", null),
            ("promo", "d", "sent", null),
            ("vip", "a", "sent", null),
            // d found vip's limit full at 06:03: vip completed, so a's second Opened (07:00) makes no vip request.
            ("vip", "d", "suppressed", "limit_reached"),
        ], seen);
    }

    [Fact]
    public async Task The_same_input_gives_the_same_output()
    {
        var options = new StreamsOptions { Limits = new StreamsOptions.LimitsOptions { PerUser = new StreamsOptions.PerUserOptions { Day = 2 } } };
        var first = await Simulate(options, [Promo, Vip, Cart], [.. Mixed, .. CartDay], to: "2026-12-03T00:00:00Z");
        var second = await Simulate(options, [Promo, Vip, Cart], [.. Mixed, .. CartDay], to: "2026-12-03T00:00:00Z");
        Assert.True(first.Count >= 10);
        Assert.Equal(first, second);
    }
}
