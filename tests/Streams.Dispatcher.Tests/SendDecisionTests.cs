using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Tests;

namespace Streams.Dispatcher.Tests;

public sealed class SendDecisionTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private static CampaignEntry Campaign(string what, CampaignStatus status = CampaignStatus.Active, string when = "") =>
        Build.Entry(Build.LiveYaml(what, "Added To Cart", when), status, at: Now);

    private static SmsRequest Request(string? phone = "+919876543210", bool? optIn = true, string? timezone = null,
        Dictionary<string, object?>? profile = null, Dictionary<string, object?>? ev = null) =>
        new("r1", "cart", 1, "u1", Now, new RequestContext("Added To Cart", Now, ev ?? [], phone, timezone, optIn, profile ?? []));

    private static Decision Decide(CampaignEntry? c, SmsRequest r) => SendDecision.Decide(r, c, Now);

    [Fact]
    public void Sends_the_rendered_text_to_the_normalized_number()
    {
        var d = Decisions.Sent(Decide(Campaign("{provider: sandbox, from: \"+14155550100\", text: \"Hi {{ profile.first_name }}\"}"),
            Request(phone: "+91 98765-43210", profile: new() { ["first_name"] = "Asha" })));
        Assert.Equal(("+919876543210", "+14155550100", "Hi Asha", "sandbox"), (d.To, d.From, d.Text, d.Provider));
        Assert.Equal(new SmsInfo("GSM-7", 7, 1), d.Info);
    }

    [Theory]
    [InlineData(null, true, Reasons.InvalidPhone)]
    [InlineData("+1555", true, Reasons.InvalidPhone)]
    [InlineData("not a number", true, Reasons.InvalidPhone)]
    [InlineData("+919876543210", false, Reasons.OptedOut)]
    [InlineData(null, false, Reasons.OptedOut)]
    public void Opt_out_comes_before_the_phone_check(string? phone, bool optIn, string reason) =>
        Assert.Equal(reason, Decisions.Stopped(Decide(Campaign("{provider: sandbox, text: Hi}"), Request(phone, optIn))).Reason);

    [Fact]
    public void Unknown_paused_stopped_and_ended_campaigns_are_inactive()
    {
        Assert.Equal(Reasons.CampaignInactive, Decisions.Stopped(Decide(null, Request())).Reason);
        Assert.Equal(Reasons.CampaignInactive, Decisions.Stopped(Decide(Campaign("{provider: sandbox, text: Hi}", CampaignStatus.Paused), Request())).Reason);
        Assert.Equal(Reasons.CampaignInactive, Decisions.Stopped(Decide(Campaign("{provider: sandbox, text: Hi}", CampaignStatus.Stopped), Request())).Reason);
        var ended = Campaign("{provider: sandbox, text: Hi}", when: "when: {end: \"2026-12-01T10:00Z\"}");
        Assert.Equal("campaign ended", Decisions.Stopped(Decide(ended, Request())).Detail);
    }

    [Fact]
    public void Missing_personalization_without_default_is_render_failed()
    {
        var d = Decisions.Stopped(Decide(Campaign("{provider: sandbox, text: \"Your {{ event.product }}\"}"), Request()));
        Assert.Equal((Reasons.RenderFailed, "missing event.product and no default"), (d.Reason, d.Detail));
    }

    [Fact]
    public void Max_segments_stops_a_message_that_renders_too_long()
    {
        var campaign = Campaign("{provider: sandbox, text: \"{{ event.note }}\", max_segments: 2}");
        Decisions.Sent(Decide(campaign, Request(ev: new() { ["note"] = new string('a', 306) })));
        var d = Decisions.Stopped(Decide(campaign, Request(ev: new() { ["note"] = new string('a', 307) })));
        Assert.Equal((Reasons.TooManySegments, "3 GSM-7 segments, max_segments is 2"), (d.Reason, d.Detail));
        var emoji = Decisions.Stopped(Decide(campaign, Request(ev: new() { ["note"] = "😜" + new string('a', 133) })));
        Assert.Equal("3 UCS-2 segments, max_segments is 2", emoji.Detail);
    }

    [Fact]
    public void Smart_encoding_turns_typographic_text_into_gsm7()
    {
        var plain = Decisions.Sent(Decide(Campaign("{provider: sandbox, text: \"It’s here — now\"}"), Request()));
        var smart = Decisions.Sent(Decide(Campaign("{provider: sandbox, text: \"It’s here — now\", smart_encoding: true}"), Request()));
        Assert.Equal(("UCS-2", "GSM-7", "It's here - now"), (plain.Info.Encoding, smart.Info.Encoding, smart.Text));
    }

    [Fact]
    public void Dates_render_in_the_profile_zone_else_the_phone_country_else_the_campaign_zone()
    {
        var campaign = Campaign("{provider: sandbox, text: \"{{ event.at | date: '%H:%M' }}\"}", when: "when: {timezone: Europe/Paris}");
        var ev = new Dictionary<string, object?> { ["at"] = "2026-12-01T12:00:00Z" };
        Assert.Equal("21:00", Decisions.Sent(Decide(campaign, Request(timezone: "Asia/Tokyo", ev: ev))).Text);
        Assert.Equal("17:30", Decisions.Sent(Decide(campaign, Request(ev: ev))).Text);                      // +91: Asia/Calcutta
        Assert.Equal("04:00", Decisions.Sent(Decide(campaign, Request(phone: "+14155550123", ev: ev))).Text); // 415: Los Angeles
        Assert.Equal("13:00", Decisions.Sent(Decide(campaign, Request(phone: "+79123456789", ev: ev))).Text); // +7 9xx: many zones
    }

    [Fact]
    public void Stops_after_the_counters_carry_the_slots_so_a_full_counter_is_reported_first()
    {
        var campaign = Campaign("{provider: sandbox, text: \"Your {{ event.product }}\"}");
        var send = Assert.IsType<Send>(SendDecision.Decide(Request(), campaign, new FrequencyCaps(3, null), null, false, Now));
        Assert.Equal(Reasons.RenderFailed, send.After!.Reason);
        Assert.Equal([Reasons.FrequencyCapped], send.Slots.Select(s => s.Reason));
    }

    [Fact]
    public void Percent_sampling_is_stable_per_user_and_near_the_asked_share()
    {
        var inSample = Enumerable.Range(0, 10_000).Count(i => SendDecision.Sampled("cart", $"u{i}", 30));
        Assert.InRange(inSample, 2_850, 3_150);
        Assert.All(Enumerable.Range(0, 100), i => Assert.Equal(SendDecision.Sampled("cart", $"u{i}", 30), SendDecision.Sampled("cart", $"u{i}", 30)));
        Assert.True(Enumerable.Range(0, 100).All(i => SendDecision.Sampled("cart", $"u{i}", 100)));
        var campaign = Campaign("{provider: sandbox, text: Hi}", when: "");
        var sampled = CampaignEntry.From(campaign.Record with { SpecJson = campaign.Record.SpecJson.Replace("\"who\":{", "\"who\":{\"reach\":{\"percent\":0.01},") });
        var d = Decisions.Stopped(Decide(sampled, Request() with { UserId = Enumerable.Range(0, 100).Select(i => $"u{i}").First(u => !SendDecision.Sampled("cart", u, 0.01)) }));
        Assert.Equal(Reasons.NotSampled, d.Reason);
    }

    [Fact]
    public void A_control_group_holds_out_a_stable_share_drawn_only_from_users_who_would_be_sent()
    {
        var held = Enumerable.Range(0, 10_000).Where(i => SendDecision.InControlGroup("cart", $"u{i}", 10)).ToList();
        Assert.InRange(held.Count, 900, 1_100);
        // Independent of the 30% sample: about 30% of the held-out users are also in it.
        Assert.InRange(held.Count(i => SendDecision.Sampled("cart", $"u{i}", 30)), 240, 360);

        var campaign = Campaign("{provider: sandbox, text: Hi}");
        var controlled = CampaignEntry.From(campaign.Record with { SpecJson = campaign.Record.SpecJson[..^1] + ",\"goal\":{\"control_group\":10}}" });
        Assert.Equal(10, controlled.Spec!.Goal!.ControlGroup);
        var user = $"u{held[0]}";
        // Held out only once every check a sent user passes has passed: an opted-out or unreachable user is no exposure.
        Assert.Equal(Reasons.OptedOut, Decisions.Stopped(Decide(controlled, Request(optIn: false) with { UserId = user })).Reason);
        Assert.Equal(Reasons.InvalidPhone, Decisions.Stopped(Decide(controlled, Request() with { UserId = user, Context = Request().Context with { Phone = "12" } })).Reason);
        var control = Assert.IsType<Send>(Decide(controlled, Request() with { UserId = user }));
        // The hold-out is a stop after the counters: probed for limits and caps (no slot taken), then reported.
        Assert.Equal(Reasons.ControlGroup, control.After!.Reason);
        var outside = Enumerable.Range(0, 100).Select(i => $"u{i}").First(u => !SendDecision.InControlGroup("cart", u, 10));
        Assert.Null(Assert.IsType<Send>(Decide(controlled, Request() with { UserId = outside })).After);
        // A paused campaign says so before anything else.
        Assert.Equal(Reasons.CampaignInactive, Decisions.Stopped(Decide(CampaignEntry.From(controlled.Record with { Status = CampaignStatus.Paused }), Request() with { UserId = user })).Reason);
    }

    [Fact]
    public void The_global_control_group_holds_a_user_out_of_every_campaign_but_transactional_ones()
    {
        var user = Enumerable.Range(0, 1000).Select(i => $"u{i}").First(u => SendDecision.InGlobalControl(u, 5));
        Assert.InRange(Enumerable.Range(0, 10_000).Count(i => SendDecision.InGlobalControl($"u{i}", 5)), 400, 600);
        var campaign = Campaign("{provider: sandbox, text: Hi}");
        var held = Assert.IsType<Send>(SendDecision.Decide(Request() with { UserId = user }, campaign, FrequencyCaps.None, null, false, Now, globalControl: 5));
        Assert.Equal(Reasons.GlobalControl, held.After!.Reason);
        var receipt = CampaignEntry.From(campaign.Record with { SpecJson = campaign.Record.SpecJson[..^1] + ",\"goal\":{\"transactional\":true}}" });
        Assert.Null(Assert.IsType<Send>(SendDecision.Decide(Request() with { UserId = user }, receipt, FrequencyCaps.None, null, false, Now, globalControl: 5)).After);
        Assert.Null(Assert.IsType<Send>(SendDecision.Decide(Request() with { UserId = user }, campaign, FrequencyCaps.None, null, false, Now)).After);
    }

    [Theory]
    [InlineData("+919876543210", null)]
    [InlineData("+91987654321", "too short for a number in India (+91): 9 digits after +91, numbers there have 10")]
    [InlineData("+9198765432101", "too long for a number in India (+91): 11 digits after +91, numbers there have 10")]
    [InlineData("+447700900123", "not a number in use in United Kingdom (+44): check the digits after the country code")]
    [InlineData("+1", "too short to be a phone number")]
    [InlineData("12345", "no country code; write it in international format: + then the country code and the number, e.g. +14155550100")]
    [InlineData("+999123456789", "unknown country code; write it in international format: + then the country code and the number, e.g. +14155550100")]
    [InlineData("hello", "not a phone number; write it in international format: + then the country code and the number, e.g. +14155550100")]
    [InlineData("+1234567890123456789", "too long: a phone number has at most 15 digits")]
    public void Phone_problems_are_said_in_plain_words(string phone, string? problem)
    {
        var actual = Phones.Problem(phone);
        Assert.Equal(problem, actual);
    }
}
