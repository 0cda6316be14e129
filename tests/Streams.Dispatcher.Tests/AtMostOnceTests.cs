using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Streams.Core;
using Streams.Counters;
using Streams.Dispatcher.Providers;
using Streams.Kafka;
using Streams.Tests;

namespace Streams.Dispatcher.Tests;

/// <summary>
/// The send chain's promises, one path at a time: a request is handed to a provider at most once, holds its claim
/// and its slots only from the hand-over, gives them back when refused, and ends in one outcome.
/// </summary>
public sealed class AtMostOnceTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Now);
    private readonly RedisCounterStore _counters = Streams.Tests.TestCounters.Create();

    private static CampaignEntry Campaign(string provider = "fake", string extra = "") =>
        Build.Entry(Build.LiveYaml($"{{provider: {provider}, text: Hi}}", extra: extra), at: Now);

    private static SmsRequest Request(string id, string user = "u1") =>
        new(id, "cart", 1, user, Now, new RequestContext("E", Now, Props.Empty, "+919876543210", "UTC", true, Props.Empty));

    private RequestHandler Handler(ISmsProvider provider, string owner = "a", CampaignEntry? campaign = null, DispatchSettings? settings = null, Pacer? pacer = null) =>
        new(_counters, new FixedProviders(provider, pacer: pacer), new FixedCampaigns(campaign ?? Campaign(provider.Name)), _time, NullLogger.Instance, owner, settings);

    [Fact]
    public async Task A_sent_request_that_comes_again_is_reported_sent_and_not_handed_over_again()
    {
        var provider = new RecordingProvider();
        var caps = new DispatchSettings { Caps = new FrequencyCaps(1, null) };
        var first = await Handler(provider, "a", settings: caps).HandleBatchAsync([Request("r1")], CancellationToken.None);
        var again = await Handler(provider, "b", settings: caps).HandleBatchAsync([Request("r1")], CancellationToken.None);

        Assert.Equal(["r1"], provider.Calls);
        Assert.Equal((ResultStatus.Sent, "m-r1"), (first.Results[0].Status, first.Results[0].MessageId));
        Assert.Equal((ResultStatus.Sent, "m-r1"), (again.Results[0].Status, again.Results[0].MessageId));
        // The one send holds one place under the day cap: another request of the user is capped.
        var other = await Handler(provider, "b", settings: caps).HandleBatchAsync([Request("r2")], CancellationToken.None);
        Assert.Equal(Reasons.FrequencyCapped, other.Results[0].Reason);
    }

    [Fact]
    public async Task A_request_claimed_by_an_attempt_that_died_waits_out_the_lease_then_ends_ambiguous_unsent()
    {
        var provider = new RecordingProvider();
        // An attempt of owner "dead" took the claim at 10:00 and never recorded an outcome.
        await _counters.HandOverAsync([new HandOver("r1", "u1", [])], "dead", 1, Now, RequestHandler.KeepSendKeys);
        var handler = Handler(provider, "b", settings: new DispatchSettings { ClaimLease = TimeSpan.FromSeconds(60) });

        _time.Advance(TimeSpan.FromSeconds(10));
        var early = await handler.HandleBatchAsync([Request("r1")], CancellationToken.None);
        var waiting = Assert.Single(early.Delayed);
        Assert.Equal((Now.AddSeconds(60), RequestHandler.ClaimPending), (waiting.DueAt, waiting.Cause));
        Assert.Empty(early.Results);

        _time.Advance(TimeSpan.FromSeconds(50));
        var late = await handler.HandleBatchAsync([Request("r1")], CancellationToken.None);
        Assert.Equal((ResultStatus.Ambiguous, Reasons.InterruptedAttempt), (late.Results[0].Status, late.Results[0].Reason));
        Assert.Empty(provider.Calls);
        Assert.Equal(1, (await _counters.CampaignCountsAsync("cart"))[ResultStatus.Ambiguous]);
    }

    [Fact]
    public async Task Through_a_provider_that_keeps_its_own_index_a_dead_attempts_request_is_sent_exactly_once()
    {
        var outbox = Path.Combine(Path.GetTempPath(), $"outbox-{Guid.NewGuid():N}.jsonl");
        try
        {
            var sandbox = new SandboxProvider("sandbox", outbox, _time, _counters);
            // The dead attempt claimed r1 and r2; the sandbox took r1 (it wrote the line) before the crash; r2 never reached it.
            await _counters.HandOverAsync([new HandOver("r1", "u1", []), new HandOver("r2", "u2", [])], "dead", 2, Now, RequestHandler.KeepSendKeys);
            await sandbox.SendAsync(new OutboundSms(Request("r1"), "+919876543210", null, "Hi", new SmsInfo("GSM-7", 2, 1)), CancellationToken.None);

            var output = await Handler(sandbox, "b").HandleBatchAsync([Request("r1"), Request("r2", "u2")], CancellationToken.None);

            Assert.All(output.Results, r => Assert.Equal(ResultStatus.Sent, r.Status));
            Assert.Equal(["r1", "r2"], File.ReadAllLines(outbox).Select(l => SandboxProvider.TryRead(l)!.RequestId).Order());
        }
        finally
        {
            File.Delete(outbox);
        }
    }

    [Fact]
    public async Task A_refused_send_gives_its_places_back_and_keeps_its_one_outcome_when_it_comes_again()
    {
        var provider = new RecordingProvider { Answer = _ => new Refused("provider_error: 400", Final: true) };
        var caps = new DispatchSettings { Caps = new FrequencyCaps(1, null) };
        var output = await Handler(provider, settings: caps).HandleBatchAsync([Request("r1")], CancellationToken.None);
        Assert.Equal((ResultStatus.Failed, "provider_error: 400"), (output.Results[0].Status, output.Results[0].Reason));

        provider.Answer = sms => new Accepted("m-" + sms.Request.RequestId);
        // r1 comes again (a redelivery): it is failed, once and for all; the place it gave back serves another request.
        var again = await Handler(provider, "b", settings: caps).HandleBatchAsync([Request("r1")], CancellationToken.None);
        Assert.Equal((ResultStatus.Failed, "provider_error: 400"), (again.Results[0].Status, again.Results[0].Reason));
        var other = await Handler(provider, "b", settings: caps).HandleBatchAsync([Request("r2")], CancellationToken.None);
        Assert.Equal(ResultStatus.Sent, other.Results[0].Status);
        Assert.Equal(["r1", "r2"], provider.Calls);
        Assert.Equal(2, (await _counters.CampaignCountsAsync("cart"))[ResultStatus.Failed]);
    }

    [Fact]
    public async Task A_call_the_provider_may_have_taken_ends_ambiguous_keeps_its_place_and_is_never_sent_again()
    {
        var provider = new RecordingProvider { Answer = _ => new Refused("provider_error: gw 500", Final: true, MayHaveBeenTaken: true) };
        var caps = new DispatchSettings { Caps = new FrequencyCaps(1, null) };
        var output = await Handler(provider, settings: caps).HandleBatchAsync([Request("r1")], CancellationToken.None);
        Assert.Equal((ResultStatus.Ambiguous, "provider_error: gw 500"), (output.Results[0].Status, output.Results[0].Reason));

        provider.Answer = sms => new Accepted("m-" + sms.Request.RequestId);
        // The same owner or another: r1 stays ambiguous, and the place it may have used stays taken.
        foreach (var owner in new[] { "a", "b" })
        {
            var again = await Handler(provider, owner, settings: caps).HandleBatchAsync([Request("r1")], CancellationToken.None);
            Assert.Equal((ResultStatus.Ambiguous, "provider_error: gw 500"), (again.Results[0].Status, again.Results[0].Reason));
        }
        var other = await Handler(provider, "b", settings: caps).HandleBatchAsync([Request("r2")], CancellationToken.None);
        Assert.Equal(Reasons.FrequencyCapped, other.Results[0].Reason);
        Assert.Equal(["r1"], provider.Calls);
    }

    [Fact]
    public async Task A_request_still_waiting_for_its_pacing_turn_at_a_stop_holds_nothing_and_is_left_for_the_next_owner()
    {
        var provider = new RecordingProvider();
        var pacer = new Pacer(_counters, _time, $"paced-{Guid.NewGuid():N}", perSecond: 1);
        using var stop = new CancellationTokenSource();
        var handling = Handler(provider, pacer: pacer).HandleBatchAsync([Request("r1"), Request("r2", "u2"), Request("r3", "u3")], stop.Token);
        // The first send has its turn at once; the second waits a virtual second, and the dispatcher stops meanwhile.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (provider.Calls.Count < 1 && waited.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(5); // no pool thread blocked
        Assert.Single(provider.Calls);
        await stop.CancelAsync();
        var output = await handling;

        Assert.Equal(["r1"], provider.Calls);
        Assert.Equal(["r1"], output.Results.Select(r => r.RequestId));
        Assert.Equal(["r2", "r3"], output.NotDone.Order());
        // Nothing of r2 or r3 was claimed: another owner hands them over at once.
        var next = await Handler(provider, "b").HandleBatchAsync([Request("r2", "u2"), Request("r3", "u3")], CancellationToken.None);
        Assert.All(next.Results, r => Assert.Equal(ResultStatus.Sent, r.Status));
        // r2 and r3 share a turn, one call each at the same time: in either order.
        Assert.Equal(["r1", "r2", "r3"], provider.Calls.Order());
    }

    [Fact]
    public async Task Dnd_discard_and_a_cap_give_the_same_reasons_in_one_batch_as_one_by_one()
    {
        // Inside DND hours with discard, and a day cap of 1: each request is judged against the counters in order,
        // and a discarded message takes no place, so every one of them is discarded, however they are batched.
        var campaign = Campaign(extra: "when: {dnd: {from: \"09:00\", to: \"11:00\", action: discard}}\n");
        var settings = new DispatchSettings { Caps = new FrequencyCaps(1, null) };
        var together = await Handler(new RecordingProvider(), campaign: campaign, settings: settings)
            .HandleBatchAsync([Request("a1"), Request("a2"), Request("a3")], CancellationToken.None);

        var apart = new List<SmsResult>();
        foreach (var id in new[] { "b1", "b2", "b3" })
            apart.AddRange((await Handler(new RecordingProvider(), campaign: campaign, settings: settings).HandleBatchAsync([Request(id, "u2")], CancellationToken.None)).Results);

        Assert.Equal([Reasons.DndDiscarded, Reasons.DndDiscarded, Reasons.DndDiscarded], together.Results.Select(r => r.Reason));
        Assert.Equal(together.Results.Select(r => r.Reason), apart.Select(r => r.Reason));
    }

    [Fact]
    public async Task A_send_ahead_of_a_dnd_discard_takes_the_place_the_discard_is_then_judged_against()
    {
        var provider = new RecordingProvider();
        var settings = new DispatchSettings { Caps = new FrequencyCaps(1, null) };
        var sent = await Handler(provider, settings: settings).HandleBatchAsync([Request("s1")], CancellationToken.None);
        Assert.Equal(ResultStatus.Sent, sent.Results[0].Status);

        var campaign = Campaign(extra: "when: {dnd: {from: \"09:00\", to: \"11:00\", action: discard}}\n");
        var later = await Handler(provider, campaign: campaign, settings: settings).HandleBatchAsync([Request("s2")], CancellationToken.None);
        Assert.Equal(Reasons.FrequencyCapped, later.Results[0].Reason);
    }

    [Fact]
    public async Task Every_result_is_counted_for_its_campaign_including_a_failure_for_a_missing_provider()
    {
        var output = await Handler(new RecordingProvider(), campaign: Campaign("nosuch")).HandleBatchAsync([Request("r1")], CancellationToken.None);
        Assert.Equal((ResultStatus.Failed, "provider_error: no provider named 'nosuch'"), (output.Results[0].Status, output.Results[0].Reason));
        Assert.Equal(1, (await _counters.CampaignCountsAsync("cart"))[ResultStatus.Failed]);
    }

    [Fact]
    public async Task A_sent_result_names_the_places_it_holds_and_its_report_comes_due()
    {
        var campaign = Campaign(extra: "");
        var provider = new RecordingProvider();
        var settings = new DispatchSettings { Caps = new FrequencyCaps(3, null) };
        var output = await Handler(provider, campaign: CampaignEntry.From(campaign.Record with
        {
            SpecJson = Core.Campaigns.CampaignSpecParser.Parse("id: cart\nname: Cart\ntype: live\nwho: {trigger: {event: E}, reach: {limit: 5}}\nwhat: {provider: fake, text: Hi}").ToJson(),
        }), settings: settings).HandleBatchAsync([Request("r1")], CancellationToken.None);

        Assert.Equal(["u|limit:cart|34560000", "m|cap:u1:d:2026-12-01|172800"], output.Results[0].Holds);
        // A real provider's message with no report by its report timeout (72 h by default) ends expired.
        var reports = new ReportPump(_counters, new ResultsReporter(new ResultWriter(new TestProducer(), Topics.Default), _counters), _time, NullLogger.Instance);
        Assert.Equal(0, await reports.PumpOnceAsync());
        _time.Advance(TimeSpan.FromHours(72));
        Assert.Equal(1, await reports.PumpOnceAsync());
        Assert.Equal(1, (await _counters.CampaignCountsAsync("cart"))[ResultStatus.Expired]);
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(0, await reports.PumpOnceAsync());
    }
}
