using System.Diagnostics;
using System.Text;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Kafka;
using Streams.Pipeline.Simulation;
using Xunit.Abstractions;

namespace Streams.Pipeline.Tests;

/// <summary>`streams simulate` plans scheduled campaigns' runs on its virtual clock over the history it is given.</summary>
public sealed class SimulateScheduledTests(ITestOutputHelper log)
{
    private static readonly Topics T = Topics.Default;

    private static CampaignRecord Campaign(string yaml)
    {
        var parsed = CampaignSpecParser.Parse(yaml);
        Assert.True(parsed.IsValid, string.Join("; ", parsed.Problems));
        return new CampaignRecord(parsed.Spec!.Id, 1, CampaignStatus.Active, parsed.ToJson(), DateTimeOffset.UnixEpoch);
    }

    private static SimulationInput Profile(string user, string phone, string timezone, string city) =>
        new(T.Profiles, user, Encoding.UTF8.GetBytes(
            $$$"""{"user_id":"{{{user}}}","ts":"2026-11-01T08:00:00Z","phone":"{{{phone}}}","timezone":"{{{timezone}}}","props":{"city":"{{{city}}}"}}"""),
            DateTimeOffset.Parse("2026-11-01T08:00:00Z"));

    private static SimulationInput Event(string user, string name, string ts) =>
        new(T.Events, user, Encoding.UTF8.GetBytes($$"""{"user_id":"{{user}}","name":"{{name}}","ts":"{{ts}}"}"""), DateTimeOffset.Parse(ts));

    [Fact]
    public async Task A_daily_campaign_is_tried_for_a_month_in_a_moment_each_run_over_the_history_up_to_it()
    {
        var campaign = Campaign("""
            id: daily
            name: Daily to buyers in Mumbai
            type: scheduled
            who: {segment: {all: [{profile: {prop: city, op: eq, value: Mumbai}}, {did: {event: Charged}}]}}
            when: {every: {cron: "0 10 * * *"}, timezone: Asia/Kolkata}
            what: {provider: sandbox, text: "Today's deal"}
            """);
        SimulationInput[] inputs =
        [
            Profile("u1", "+919876543210", "Asia/Kolkata", "Mumbai"),
            Profile("u2", "+919876543211", "Asia/Kolkata", "Mumbai"),
            Profile("u3", "+919876543212", "Asia/Kolkata", "Pune"),
            Event("u1", "Charged", "2026-11-20T08:00:00Z"),
            Event("u3", "Charged", "2026-11-20T08:00:00Z"),
            // u2 becomes a buyer on 15 December after that day's run: from the 16th on.
            Event("u2", "Charged", "2026-12-15T06:00:00Z"),
        ];
        var clock = Stopwatch.StartNew();
        var outcomes = await new Simulator(new StreamsOptions()).RunAsync([campaign], inputs,
            DateTimeOffset.Parse("2026-12-01T00:00:00Z"), DateTimeOffset.Parse("2026-12-31T00:00:00Z"), CancellationToken.None);
        log.WriteLine($"30 days simulated in {clock.ElapsedMilliseconds} ms");

        var sent = outcomes.Where(o => o.Status == ResultStatus.Sent).ToList();
        Assert.Equal(30, sent.Count(o => o.UserId == "u1"));
        Assert.Equal(15, sent.Count(o => o.UserId == "u2"));
        Assert.DoesNotContain(outcomes, o => o.UserId == "u3");
        Assert.Equal(DateTimeOffset.Parse("2026-12-01T04:30:00Z"), sent.Where(o => o.UserId == "u1").Min(o => o.At));
        Assert.Equal(DateTimeOffset.Parse("2026-12-16T04:30:00Z"), sent.Where(o => o.UserId == "u2").Min(o => o.At));
        Assert.All(sent, o => Assert.Equal(TimeSpan.FromHours(4.5), o.At.UtcDateTime.TimeOfDay));
        Assert.Equal(45, sent.Select(o => o.RequestId).Distinct().Count());
    }

    [Fact]
    public async Task A_user_zone_run_sends_each_user_at_their_local_time_and_reports_the_rest_as_scheduled()
    {
        var campaign = Campaign("""
            id: morning
            name: Morning
            type: scheduled
            when: {at: "2026-12-02T09:00", deliver_in: user_timezone}
            what: {provider: sandbox, text: "Good morning"}
            """);
        SimulationInput[] inputs =
        [
            Profile("kolkata", "+919876543210", "Asia/Kolkata", "Mumbai"),
            Profile("la", "+14155550100", "America/Los_Angeles", "LA"),
        ];
        var outcomes = await new Simulator(new StreamsOptions()).RunAsync([campaign], inputs,
            DateTimeOffset.Parse("2026-12-01T00:00:00Z"), DateTimeOffset.Parse("2026-12-02T12:00:00Z"), CancellationToken.None);

        var kolkata = Assert.Single(outcomes, o => o.UserId == "kolkata");
        Assert.Equal((ResultStatus.Sent, DateTimeOffset.Parse("2026-12-02T03:30:00Z")), (kolkata.Status, kolkata.At));
        var la = Assert.Single(outcomes, o => o.UserId == "la");
        Assert.Equal((Simulator.Scheduled, "user_timezone", DateTimeOffset.Parse("2026-12-02T17:00:00Z")), (la.Status, la.Reason, la.At));
    }
}
