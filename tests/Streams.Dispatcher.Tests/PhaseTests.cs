using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Streams.Core;
using Streams.Counters;
using Streams.Dispatcher.Phases;
using Streams.Dispatcher.Providers;
using Streams.Tests;

namespace Streams.Dispatcher.Tests;

/// <summary>
/// The batch's phases one at a time. The judge of the counters' answers and the settling of a provider's answers
/// are pure (no Redis): each at-most-once path is an input and the outcome it must give.
/// </summary>
public sealed class PhaseTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);
    private readonly FakeTimeProvider _time = new(Now);
    private readonly Outcomes _outcomes;
    private readonly Dictionary<string, CampaignRecord> _completed = [];

    public PhaseTests() => _outcomes = new Outcomes(_time, NullLogger.Instance);

    private static readonly Slot DayCap = new(CounterKind.Messages, "cap:u1:d:2026-12-01", 1, TimeSpan.FromDays(2), Reasons.FrequencyCapped);

    private static BatchItem Item(string id = "r1", Suppress? after = null) =>
        new(new SmsRequest(id, "cart", 1, "u1", Now, new RequestContext("E", Now, Props.Empty, "+919876543210", "UTC", true, Props.Empty)))
        {
            Send = new Send("+919876543210", null, "Hi", new SmsInfo("GSM-7", 2, 1), "fake", [DayCap], after),
        };

    private HandOverJudge Judge(CampaignEntry? campaign = null) =>
        new(new FixedCampaigns(campaign ?? Build.Entry(Build.LiveYaml("{provider: fake, text: Hi}"), at: Now)),
            new DispatchSettings { ClaimLease = Lease }, _time, _outcomes, NullLogger.Instance);

    [Fact]
    public void A_won_hand_over_is_this_owners_to_send_and_has_no_outcome_yet()
    {
        var item = Item();
        Assert.True(Judge().Judge(item, new HandOverResult(HandOverState.Won), new RecordingProvider(), _completed));
        Assert.False(item.Done);
    }

    [Fact]
    public void A_redelivery_of_a_sent_request_is_reported_sent_with_what_its_send_recorded()
    {
        var item = Item();
        var won = Judge().Judge(item, new HandOverResult(HandOverState.Sent, new SentDetail("m-9", new SmsInfo("UCS-2", 0, 2), "twilio").ToString()),
            new RecordingProvider(), _completed);

        Assert.False(won);
        Assert.Equal((ResultStatus.Sent, "m-9", "twilio", 2, "UCS-2"),
            (item.Result!.Status, item.Result.MessageId, item.Result.Provider, item.Result.Segments, item.Result.Encoding));
    }

    [Fact]
    public void A_redelivery_of_a_refused_request_gets_the_same_outcome_again()
    {
        var item = Item();
        Judge().Judge(item, new HandOverResult(HandOverState.Outcome, "failed|provider_error: 400"), new RecordingProvider(), _completed);
        Assert.Equal((ResultStatus.Failed, "provider_error: 400", "fake"), (item.Result!.Status, item.Result.Reason, item.Result.Provider));
    }

    [Fact]
    public void A_request_claimed_but_unrecorded_by_another_attempt_waits_until_the_claims_lease_ends()
    {
        var item = Item();
        var claimedAt = Now.AddSeconds(-10);
        Judge().Judge(item, new HandOverResult(HandOverState.ClaimedByOther, ClaimedBy: "dead", ClaimedAt: claimedAt), new RecordingProvider(), _completed);

        Assert.Null(item.Result);
        Assert.Equal((claimedAt + Lease, RequestHandler.ClaimPending), (item.Waiting!.DueAt, item.Waiting.Cause));
    }

    [Fact]
    public void A_request_claimed_but_unrecorded_past_the_lease_ends_ambiguous_keeps_its_places_and_is_to_be_marked()
    {
        var item = Item();
        var won = Judge().Judge(item, new HandOverResult(HandOverState.ClaimedByOther, ClaimedBy: "dead", ClaimedAt: Now - Lease), new RecordingProvider(), _completed);

        Assert.False(won);
        Assert.Equal((ResultStatus.Ambiguous, Reasons.InterruptedAttempt), (item.Result!.Status, item.Result.Reason));
        Assert.Equal(Holds.Of([DayCap]), item.Result.Holds);
        Assert.Equal(Reasons.InterruptedAttempt, item.Unmarked);
    }

    [Fact]
    public void Through_a_provider_that_keeps_its_own_index_a_claimed_but_unrecorded_request_is_sent_and_a_probe_is_not()
    {
        var claimed = new HandOverResult(HandOverState.ClaimedByOther, ClaimedBy: "dead", ClaimedAt: Now);
        var indexed = new RecordingProvider(canFind: true);
        Assert.True(Judge().Judge(Item(), claimed, indexed, _completed));

        var probe = Item(after: new Suppress(Reasons.DndDiscarded, "quiet hours"));
        Assert.False(Judge().Judge(probe, claimed, indexed, _completed));
        Assert.Equal((ResultStatus.Suppressed, Reasons.DndDiscarded), (probe.Result!.Status, probe.Result.Reason));
    }

    [Fact]
    public void A_full_reach_limit_suppresses_the_request_and_completes_its_live_campaign()
    {
        var item = Item();
        Judge().Judge(item, new HandOverResult(HandOverState.Denied, DeniedReason: Reasons.LimitReached), new RecordingProvider(), _completed);

        Assert.Equal((ResultStatus.Suppressed, Reasons.LimitReached), (item.Result!.Status, item.Result.Reason));
        Assert.Equal(CampaignStatus.Completed, Assert.Single(_completed.Values).Status);
    }

    private Settler Settler() => new(_outcomes, _time, NullLogger.Instance);

    [Fact]
    public void A_refused_send_gives_its_places_back_and_keeps_its_outcome_on_the_claim()
    {
        var item = Item();
        var settled = Settler().Settle(new RecordingProvider(), [item], [new Refused("provider_error: 400", Final: true)], TimeSpan.FromHours(72));

        Assert.Equal((ResultStatus.Failed, "provider_error: 400"), (item.Result!.Status, item.Result.Reason));
        var back = Assert.Single(settled.GivenBack);
        Assert.Equal(("r1", "u1", "failed|provider_error: 400"), (back.RequestId, back.UserId, back.Outcome));
        Assert.Equal([DayCap], back.Slots);
        Assert.Empty(settled.Sent);
    }

    [Fact]
    public void A_number_the_provider_says_opted_out_is_remembered_suppressed_and_its_places_given_back()
    {
        var item = Item();
        var settled = Settler().Settle(new RecordingProvider(), [item], [new Refused(Reasons.OptedOut, Final: true)], TimeSpan.FromHours(72));

        Assert.Equal((ResultStatus.Suppressed, Reasons.OptedOut), (item.Result!.Status, item.Result.Reason));
        Assert.Equal(["phone:+919876543210"], settled.OptedOut);
        Assert.Single(settled.GivenBack);
    }

    [Fact]
    public void A_call_the_provider_may_have_taken_ends_ambiguous_and_keeps_its_places()
    {
        var item = Item();
        var settled = Settler().Settle(new RecordingProvider(), [item], [new Refused("provider_error: gw 500", Final: true, MayHaveBeenTaken: true)], TimeSpan.FromHours(72));

        Assert.Equal((ResultStatus.Ambiguous, "provider_error: gw 500"), (item.Result!.Status, item.Result.Reason));
        Assert.Equal(Holds.Of([DayCap]), item.Result.Holds);
        Assert.Equal("provider_error: gw 500", item.Unmarked);
        Assert.Empty(settled.GivenBack);
        Assert.Empty(settled.Sent);
    }

    [Fact]
    public void An_accepted_send_is_recorded_with_its_report_due_at_the_providers_report_timeout()
    {
        var item = Item();
        var settled = Settler().Settle(new RecordingProvider(), [item], [new Accepted("m-1")], TimeSpan.FromHours(72));

        var record = Assert.Single(settled.Sent);
        Assert.Equal(("r1", Now.AddHours(72), "m-1"), (record.RequestId, record.ReportDue, SentDetail.Parse(record.Detail).MessageId));
        Assert.Equal([DayCap], record.Slots);
        Assert.Equal((ResultStatus.Sent, "m-1"), (item.Result!.Status, item.Result.MessageId));
        Assert.Equal(Holds.Of([DayCap]), item.Result.Holds);
    }

    [Fact]
    public async Task A_redelivered_request_whose_user_opted_out_since_its_send_is_reported_sent_not_suppressed()
    {
        var counters = TestCounters.Create();
        var item = Item();
        await counters.HandOverAsync([new HandOver("r1", "u1", [])], "a", 1, Now, RequestHandler.KeepSendKeys);
        await counters.RecordSentAsync([new SentRecord("r1", "cart", new SentDetail("m-1", new SmsInfo("GSM-7", 2, 1), "fake").ToString(), null, null,
            Now.AddHours(72), "", "u1", [])], RequestHandler.KeepSendKeys);
        await counters.SetOptOutAsync("phone:+919876543210", true, Now);
        var decide = new DecidePhase(counters, new FixedCampaigns(Build.Entry(Build.LiveYaml("{provider: fake, text: Hi}"), at: Now)),
            new DispatchSettings(), _time, _outcomes, NullLogger.Instance);

        var fresh = new BatchItem(item.Request);
        await decide.RunAsync([fresh]);

        Assert.Equal((ResultStatus.Sent, "m-1"), (fresh.Result!.Status, fresh.Result.MessageId));
    }

    [Fact]
    public async Task A_redelivered_request_that_ended_ambiguous_stays_ambiguous_when_its_campaign_has_stopped_since()
    {
        var counters = TestCounters.Create();
        await counters.HandOverAsync([new HandOver("r7", "u1", [])], "a", 1, Now, RequestHandler.KeepSendKeys);
        await counters.RecordAmbiguousAsync([("r7", "provider_error: gw timed out")], RequestHandler.KeepSendKeys);
        var paused = new FixedCampaigns(Build.Entry(Build.LiveYaml("{provider: fake, text: Hi}"), CampaignStatus.Paused, at: Now));
        var decide = new DecidePhase(counters, paused, new DispatchSettings(), _time, _outcomes, NullLogger.Instance);

        var again = new BatchItem(Item("r7").Request);
        await decide.RunAsync([again]);

        Assert.Equal((ResultStatus.Ambiguous, "provider_error: gw timed out"), (again.Result!.Status, again.Result.Reason));
    }
}
