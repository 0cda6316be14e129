using Microsoft.Extensions.Logging.Abstractions;
using Streams.Core;
using Streams.Core.Schedules;
using Streams.Kafka;
using Streams.Tests;

namespace Streams.Pipeline.Tests;

/// <summary>
/// Scheduled campaigns through the whole embedded pipeline on a virtual clock: the sink stores profiles, the scheduler
/// role plans the run over them when its time comes, the dispatcher sends; sms.runs and the CLI's run client agree.
/// </summary>
public sealed class ScheduledRunTests : IDisposable
{
    private readonly PipelineFixture _f = new();

    public void Dispose() => _f.Dispose();

    private static readonly (string, string)[] Profiles =
    [
        ("u1", """{"user_id":"u1","ts":"2026-11-01T08:00:00Z","phone":"+919876543210","props":{"city":"Mumbai","first_name":"Asha"}}"""),
        ("u2", """{"user_id":"u2","ts":"2026-11-01T08:00:00Z","phone":"+919876543211","props":{"city":"Mumbai","first_name":"Ravi"}}"""),
        ("u3", """{"user_id":"u3","ts":"2026-11-01T08:00:00Z","phone":"+919876543212","props":{"city":"Pune"}}"""),
    ];

    private async Task<(EmbeddedKafka Kafka, StreamsOptions Options, PipelineHost Host)> StartAsync(string campaign)
    {
        var options = new StreamsOptions { StateDir = _f.StateDir };
        var kafka = PipelineFixture.Kafka(options);
        await _f.Campaigns(options).ApplyAsync(campaign);
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, options.Topics.Profiles, Profiles);
        var host = await _f.StartAsync(options, "scheduled", [], []);
        var mumbai = Core.Campaigns.CampaignSpecParser.ParseSegment("id: x\nname: x\nsegment: {profile: {prop: city, op: eq, value: Mumbai}}").Segment!.Segment;
        await Eventually.Async(() => host.Analytics!.SegmentCountAsync(mumbai, _f.Time.GetUtcNow()), n => n == 2);
        return (kafka, options, host);
    }

    /// <summary>The scheduler ticks on the virtual clock: move it a second at a time until the run reaches a state.</summary>
    private async Task<RunRecord> RunReaches(RunClient runs, string campaign, string status)
    {
        return await Eventually.Async(() =>
        {
            _f.Time.Advance(TimeSpan.FromSeconds(1));
            return runs.List(campaign).SingleOrDefault();
        }, r => r?.Status == status, TimeSpan.FromSeconds(90)) ?? throw new InvalidOperationException();
    }

    [Fact]
    public async Task A_one_time_run_sends_to_its_segment_once_when_its_time_comes()
    {
        var (kafka, options, host) = await StartAsync("""
            id: mumbai-sale
            name: Mumbai sale
            type: scheduled
            who: {segment: {profile: {prop: city, op: eq, value: Mumbai}}}
            when: {at: "2026-12-01T15:35", timezone: Asia/Kolkata}
            what: {provider: sandbox, text: "Hi {{ profile.first_name }}, the sale is on"}
            """);
        using (kafka)
        await using (host)
        {
            var runs = new RunClient(kafka.Bootstrap, options.Topics, _f.Time, NullLogger.Instance);
            _f.Time.Advance(TimeSpan.FromMinutes(4));
            Assert.Empty(runs.List("mumbai-sale"));

            var run = await RunReaches(runs, "mumbai-sale", RunStatus.Done);
            Assert.Equal(("mumbai-sale@20261201T1005Z", 2L, 2L), (run.RunId, run.Qualified, run.Planned));
            var results = await Eventually.Async(() => KafkaTest.Results(kafka.Bootstrap, options.Topics),
                r => r.Count(x => x.Status == ResultStatus.Sent) == 2);
            Assert.Equal(["u1", "u2"], results.Where(r => r.Status == ResultStatus.Sent).Select(r => r.UserId).Order());
            Assert.All(results, r => Assert.Equal(RequestIds.ForRun(run.RunId, r.UserId), r.RequestId));
            var outbox = File.ReadAllLines(host.OutboxPath);
            Assert.Contains(outbox, l => l.Contains("Hi Asha, the sale is on", StringComparison.Ordinal));

            // Ticks go on; the run is not planned again.
            for (var i = 0; i < 5; i++) _f.Time.Advance(TimeSpan.FromSeconds(1));
            var counts = await Eventually.Async(() => host.Analytics!.RunCountsAsync("mumbai-sale"), c => c.TryGetValue(RequestIds.RunKey(run.RunId), out var n) && n.Sent == 2);
            Assert.Equal(2, KafkaTest.ReadAll(kafka.Bootstrap, options.Topics.Requests).Count);
            Assert.Single(counts);
        }
    }

    [Fact]
    public async Task A_run_past_its_safety_limit_is_held_with_an_alert_until_approved()
    {
        var (kafka, options, host) = await StartAsync("""
            id: careful
            name: Careful
            type: scheduled
            who: {reach: {safety_limit: 2}}
            when: {at: now}
            what: {provider: sandbox, text: "Hello"}
            """);
        using (kafka)
        await using (host)
        {
            var runs = new RunClient(kafka.Bootstrap, options.Topics, _f.Time, NullLogger.Instance);
            var held = await RunReaches(runs, "careful", RunStatus.Held);
            Assert.Equal(3L, held.Qualified);
            // The alert follows the held record.
            var alerts = await Eventually.Async(() => KafkaTest.ReadAll(kafka.Bootstrap, options.Topics.Alerts), a => a.Count > 0);
            var alert = options.Topics.Alerts.Decode(Assert.Single(alerts).Message.Value);
            Assert.Equal((Alert.SafetyHold, "careful", held.RunId), (alert.Kind, alert.CampaignId, alert.RunId));
            Assert.Empty(KafkaTest.ReadAll(kafka.Bootstrap, options.Topics.Requests));

            await Assert.ThrowsAsync<CampaignException>(() => runs.ApproveAsync("careful", "careful@nosuch"));
            Assert.Equal(RunStatus.Releasing, (await runs.ApproveAsync("careful", held.RunId)).Status);
            var done = await RunReaches(runs, "careful", RunStatus.Done);
            Assert.Equal(3L, done.Planned);
            await Eventually.Async(() => KafkaTest.Results(kafka.Bootstrap, options.Topics), r => r.Count(x => x.Status == ResultStatus.Sent) == 3);
            var e = await Assert.ThrowsAsync<CampaignException>(() => runs.ApproveAsync("careful", held.RunId));
            Assert.Equal($"run '{held.RunId}' is done; only a run that is held can be changed so", e.Message);
        }
    }
}
