using Streams.Core.Campaigns;
using Streams.Core.Schedules;

namespace Streams.Core.Tests;

public sealed class ScheduleTests
{
    private static CampaignSpec Spec(string when, string who = "") => CampaignSpecParser.ParseValid(
        $"id: s\nname: S\ntype: scheduled\n{who}when: {when}\nwhat: {{provider: sandbox, text: Hi}}\n");

    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_scheduled_campaign_reads_every_key_of_when()
    {
        var spec = Spec("""{at: ["2026-12-01T10:00", "2026-12-08T10:00"], timezone: Asia/Kolkata, deliver_in: user_timezone, late: {grace: 2h, then: next_day}, max_lateness: 30m}""");
        var when = spec.When!;
        Assert.Equal([new DateTime(2026, 12, 1, 10, 0, 0), new DateTime(2026, 12, 8, 10, 0, 0)], when.At);
        Assert.Equal(new Late(TimeSpan.FromHours(2), LateAction.NextDay), when.Late);
        Assert.Equal(TimeSpan.FromMinutes(30), when.MaxLateness);
        Assert.True(Spec("{at: now}").When!.AtNow);
        var best = Spec("""{every: {cron: "0 0 * * MON"}, best_time: {from: "09:00", to: "21:00", events: [App Opened, Charged]}}""").When!.BestTime!;
        Assert.Equal((new TimeOnly(9, 0), new TimeOnly(21, 0)), (best.From, best.To));
        Assert.Equal(["App Opened", "Charged"], best.Events);
    }

    [Theory]
    [InlineData("{at: now, late: {then: tomorrow}}", "when.late.then: must be one of: skip, next_day, send_now")]
    [InlineData("{at: now, max_lateness: soon}", "when.max_lateness: must be a duration like 30s, 5m, 2h or 7d")]
    [InlineData("{at: now, best_time: {from: \"09:30\", to: \"21:00\"}}", "when.best_time: from and to must be whole hours (the best time is an hour)")]
    [InlineData("{at: now, best_time: {from: \"09:00\", to: \"21:00\"}, deliver_in: campaign_timezone}", "when.best_time: best_time sends at each user's local hour: it cannot go with deliver_in: campaign_timezone")]
    [InlineData("{at: later}", "when.at[0]: must be a local date and time like 2026-12-01T10:00")]
    public void A_bad_schedule_is_refused_with_its_path(string when, string problem)
    {
        var result = CampaignSpecParser.Parse($"id: s\nname: S\ntype: scheduled\nwhen: {when}\nwhat: {{provider: sandbox, text: Hi}}\n");
        Assert.Contains(problem, result.Problems.Select(p => $"{p.Path}: {p.Message}"));
    }

    [Fact]
    public void Apply_refuses_user_zone_delivery_on_a_live_campaign_and_takes_it_on_a_scheduled_one()
    {
        var live = CampaignSpecParser.Parse("id: s\nname: S\ntype: live\nwho: {trigger: {event: E}}\nwhen: {deliver_in: user_timezone, late: {then: skip}}\nwhat: {provider: sandbox, text: Hi}\n");
        Assert.Equal(["when.deliver_in", "when.late"], SupportCheck.UnsupportedPaths(live.Spec!, live.Document));
        var campaignZone = CampaignSpecParser.Parse("id: s\nname: S\ntype: live\nwho: {trigger: {event: E}}\nwhen: {deliver_in: campaign_timezone}\nwhat: {provider: sandbox, text: Hi}\n");
        Assert.Empty(SupportCheck.UnsupportedPaths(campaignZone.Spec!, campaignZone.Document));
        var scheduled = CampaignSpecParser.Parse("id: s\nname: S\ntype: scheduled\nwho: {reach: {run_limit: 5, safety_limit: 9}}\nwhen: {at: now, deliver_in: user_timezone, late: {then: skip}, max_lateness: 2h}\nwhat: {provider: sandbox, text: Hi}\n");
        Assert.Empty(SupportCheck.UnsupportedPaths(scheduled.Spec!, scheduled.Document));
    }

    [Fact]
    public void A_best_time_cron_run_is_due_at_the_window_start_in_the_earliest_zone_not_at_the_cron_time()
    {
        var s = new Schedule(Spec("{every: {cron: \"0 18 * * *\"}, best_time: {from: \"09:00\", to: \"21:00\"}}"), Now);
        // 1 December's run: 09:00 at UTC+14 is 19:00Z on 30 November, hours before its cron time (18:00 at UTC+14).
        var due = new DateTimeOffset(2026, 11, 30, 19, 0, 0, TimeSpan.Zero);
        Assert.DoesNotContain(s.Between(s.LookFrom, due.AddSeconds(-1)), o => o.At > Now);
        Assert.Equal([due], s.Between(s.LookFrom, due).Where(o => o.At > Now).Select(o => o.At));
    }

    [Fact]
    public void An_at_that_happens_twice_as_clocks_go_back_is_the_earlier_as_a_cron_time_is()
    {
        var at = new Schedule(Spec("{at: \"2027-11-07T01:30\", timezone: America/New_York}"), Now);
        var cron = new Schedule(Spec("{every: {cron: \"30 1 7 11 *\"}, timezone: America/New_York}"), Now);
        var instant = new DateTimeOffset(2027, 11, 7, 5, 30, 0, TimeSpan.Zero);
        Assert.Equal(instant, Assert.Single(at.Between(Now, Now.AddDays(400))).At);
        Assert.Equal(instant, cron.Between(Now, Now.AddDays(400)).First().At);
    }

    [Fact]
    public void At_and_every_together_run_both_in_time_order()
    {
        var s = new Schedule(Spec("{at: \"2026-12-02T09:00\", every: {cron: \"0 10 * * *\"}}"), Now);
        Assert.Equal(["s@20261201T1000Z", "s@20261202T0900Z", "s@20261202T1000Z"], s.Between(Now, Now.AddDays(2).AddHours(-1)).Select(o => o.RunId));
    }

    [Fact]
    public void Run_ids_are_the_campaign_and_the_occurrence_and_at_now_keeps_one_id_across_versions()
    {
        var at = new Schedule(Spec("{at: \"2026-12-01T10:00\", timezone: Asia/Kolkata}"), Now);
        Assert.Equal("s@20261201T0430Z", Assert.Single(at.Between(Now, Now.AddDays(2))).RunId);
        var now = new Schedule(Spec("{at: now}"), Now);
        var later = new Schedule(Spec("{at: now}"), Now.AddDays(3));
        Assert.Equal(Assert.Single(now.Between(now.LookFrom, Now)).RunId, Assert.Single(later.Between(later.LookFrom, Now.AddDays(3))).RunId);
        Assert.Equal(RequestIds.ForRun("s@now", "u1"), RequestIds.ForRun("s@now", "u1"));
        Assert.NotEqual(RequestIds.ForRun("s@now", "u1"), RequestIds.ForRun("s@20261201T0430Z", "u1"));
        Assert.StartsWith(RequestIds.RunKey("s@now") + "-", RequestIds.ForRun("s@now", "u1"));
        Assert.Equal(32, RequestIds.ForRun("s@now", "u1").Length);
    }

    [Fact]
    public void Cron_until_stops_at_the_end_of_its_day_in_the_campaign_zone()
    {
        var s = new Schedule(Spec("{every: {cron: \"0 10 * * *\", until: \"2026-12-03\"}, timezone: Asia/Kolkata}"), Now);
        Assert.Equal(
            [new DateTimeOffset(2026, 12, 1, 4, 30, 0, TimeSpan.Zero), new DateTimeOffset(2026, 12, 2, 4, 30, 0, TimeSpan.Zero), new DateTimeOffset(2026, 12, 3, 4, 30, 0, TimeSpan.Zero)],
            s.Between(Now, Now.AddDays(30)).Select(o => o.At));
    }

    [Fact]
    public void An_at_is_in_the_past_only_once_it_has_passed_wherever_it_is_for()
    {
        Assert.Equal("when.at[0]: 2026-11-30T10:00 in Asia/Kolkata is in the past (now 2026-11-30T12:00Z)",
            Assert.Single(Schedule.PastProblems(Spec("{at: \"2026-11-30T10:00\", timezone: Asia/Kolkata}"), Now)).ToString());
        Assert.Empty(Schedule.PastProblems(Spec("{at: \"2026-11-30T18:00\", timezone: Asia/Kolkata}"), Now));
        // 10:00 has passed in Kolkata but not yet in Los Angeles: a user-zone run can still reach someone.
        Assert.Empty(Schedule.PastProblems(Spec("{at: \"2026-11-30T10:00\", deliver_in: user_timezone}"), Now));
        Assert.Single(Schedule.PastProblems(Spec("{at: \"2026-11-29T10:00\", deliver_in: user_timezone}"), Now));
        Assert.Empty(Schedule.PastProblems(Spec("{at: now}"), Now));
    }
}
