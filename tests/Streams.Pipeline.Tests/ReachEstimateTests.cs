using Streams.Analytics;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Pipeline.Estimates;

namespace Streams.Pipeline.Tests;

/// <summary>The reach funnel on a handful of users whose answer is known by hand.</summary>
public sealed class ReachEstimateTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private static readonly Contact[] Members =
    [
        new("u1", "+919876543210", "Asia/Kolkata", true),
        new("u2", "", "", null),                      // no phone
        new("u3", "+919876543211", "", false),        // opted out in the profile
        new("u4", "+12124567890", "America/New_York"),
        new("u5", "+919876543212", ""),
        new("u6", "+447911123456", "Europe/London"),
    ];

    private static CampaignSpec Spec(string reach = "", string when = "") => CampaignSpecParser.ParseValid(
        $"id: promo\nname: Promo\ntype: live\nwho: {{trigger: {{event: E}}{reach}}}\n{when}what: {{provider: sandbox, text: Hi}}");

    [Fact]
    public void Each_step_takes_out_the_users_it_stops_and_the_rest_are_reachable_by_country_and_zone()
    {
        var e = ReachEstimate.Of(Spec(), Members, optedOut: c => c.UserId == "u6", ratePerSecond: 2, defaultDnd: null, Now);

        Assert.Equal(6, e.Qualified);
        Assert.Equal([new FunnelStep(Reasons.InvalidPhone, 1, 5), new FunnelStep(Reasons.OptedOut, 2, 3)], e.Funnel);
        Assert.Equal(3, e.Reachable);
        Assert.Equal(new Dictionary<string, long> { ["India (+91)"] = 2, ["United States (+1)"] = 1 }, e.ByCountry);
        // u5 has no zone of its own: its phone's (India) gives it.
        Assert.Equal(new Dictionary<string, long> { ["Asia/Kolkata"] = 2, ["America/New_York"] = 1 }, e.ByTimezone);
        Assert.Equal((1, 3L), (e.SegmentsPerMessage, e.CostUnits));
        Assert.Equal(TimeSpan.FromSeconds(1.5), e.TimeToSend);
    }

    [Fact]
    public void A_limit_keeps_a_stable_random_n_and_dnd_stretches_the_time_to_send()
    {
        var spec = Spec(", reach: {limit: 2}", "when: {dnd: {from: \"13:00\", to: \"09:00\"}}\n");
        var e = ReachEstimate.Of(spec, Members, null, ratePerSecond: 0.0001, defaultDnd: null, Now);

        Assert.Equal(new FunnelStep(Reasons.LimitReached, 2, 2), e.Funnel[^1]);
        Assert.Equal(2, e.Reachable);
        Assert.Equal(2, e.ByCountry.Values.Sum());
        Assert.Equal(e.Reachable, ReachEstimate.Of(spec, Members, null, 0.0001, null, Now).Reachable);
        // 20,000 s of sending, with 20 of every 24 hours quiet: six times as long, and past one day's open hours.
        Assert.Equal(TimeSpan.FromSeconds(120_000), e.TimeToSend);
        Assert.Contains(e.Warnings, w => w.StartsWith("sending takes 5.6 h at 0.0001/s: longer than the 4 h outside DND (13:00–09:00)", StringComparison.Ordinal));
    }

    [Fact]
    public void Without_a_rate_there_is_no_time_to_send_and_the_estimate_says_why()
    {
        var e = ReachEstimate.Of(Spec(), Members, null, ratePerSecond: null, defaultDnd: null, Now);
        Assert.Null(e.TimeToSend);
        Assert.Contains("provider 'sandbox' has no rate: no time to send", e.Warnings);
    }
}
