using Streams.Core;
using Streams.Kafka;
using Streams.Tests;

namespace Streams.Pipeline.Tests;

/// <summary>
/// A live campaign whose segment is a saved one over history (with where): the sink stores the events, the segment
/// job evaluates the segment on the virtual clock and publishes memberships, and the topology judges the trigger by them.
/// </summary>
public sealed class LiveRefTests : IDisposable
{
    private readonly PipelineFixture _f = new();

    public void Dispose() => _f.Dispose();

    [Fact]
    public async Task A_live_ref_sends_to_the_members_the_segment_job_published_and_not_to_others()
    {
        var options = new StreamsOptions { StateDir = _f.StateDir, Segments = new StreamsOptions.SegmentsOptions { Refresh = "1m" } };
        using var kafka = PipelineFixture.Kafka(options);
        var segments = new SegmentClient(kafka.Bootstrap, options.Topics, _f.Time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        await segments.ApplyAsync("id: big-buyers\nname: Big buyers\nsegment: {did: {event: Charged, within: 7d, where: [{prop: amount, op: gte, value: 1000}]}}");
        var campaigns = _f.Campaigns(options);
        await campaigns.ApplyAsync("id: vip\nname: VIP\ntype: live\nwho: {trigger: {event: Browsed}, segment: {ref: big-buyers}}\nwhat: {provider: sandbox, text: Hi}");
        await campaigns.ApplyAsync("id: welcome\nname: Welcome\ntype: live\nwho: {trigger: {event: Signed Up}}\nwhat: {provider: sandbox, text: Welcome}");
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, options.Topics.Profiles,
            ("u1", """{"user_id":"u1","ts":"2026-11-01T08:00:00Z","phone":"+919876543210"}"""),
            ("u2", """{"user_id":"u2","ts":"2026-11-01T08:00:00Z","phone":"+919876543211"}"""));
        await using var host = await _f.StartAsync(options, "live-ref", ["vip", "welcome"], ["u1", "u2"]);

        // History: u1 paid 1500 yesterday, u2 paid 200.
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, options.Topics.Events,
            ("u1", """{"user_id":"u1","name":"Charged","ts":"2026-11-30T12:00:00Z","props":{"amount":1500}}"""),
            ("u2", """{"user_id":"u2","name":"Charged","ts":"2026-11-30T12:00:00Z","props":{"amount":200}}"""));
        var segment = Core.Campaigns.CampaignSpecParser.ParseSegment("id: x\nname: x\nsegment: {did: {event: Charged}}").Segment!.Segment;
        await Eventually.Async(() => host.Analytics!.SegmentCountAsync(segment, _f.Time.GetUtcNow()), n => n == 2);

        // The next evaluation (one refresh on; or the first, if the sink was quicker than it) publishes u1's membership.
        _f.Time.Advance(TimeSpan.FromMinutes(1));
        var published = await Eventually.Async(() => KafkaTest.ReadAll(kafka.Bootstrap, options.Topics.Memberships)
            .Select(r => options.Topics.Memberships.Decode(r.Message.Value)).ToList(), m => m.Any(x => x.UserId == "u1"));
        var u1 = Assert.Single(published);
        Assert.Equal("u1", u1.UserId);
        Assert.Equal(["big-buyers"], u1.Segments);
        Assert.True(u1.EvaluatedAt <= PipelineFixture.Start.AddMinutes(1));

        // Each user browses, then signs up: the welcome result shows their browse was judged before it (same key, in order).
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, options.Topics.Events,
            ("u1", """{"user_id":"u1","name":"Browsed","ts":"2026-12-01T10:01:00Z"}"""),
            ("u1", """{"user_id":"u1","name":"Signed Up","ts":"2026-12-01T10:01:01Z"}"""),
            ("u2", """{"user_id":"u2","name":"Browsed","ts":"2026-12-01T10:01:00Z"}"""),
            ("u2", """{"user_id":"u2","name":"Signed Up","ts":"2026-12-01T10:01:01Z"}"""));
        var results = await Eventually.Async(() => KafkaTest.Results(kafka.Bootstrap, options.Topics),
            r => r.Count(x => x.CampaignId == "welcome" && x.Status == ResultStatus.Sent) == 2 && r.Any(x => x.CampaignId == "vip"));
        var requests = KafkaTest.ReadAll(kafka.Bootstrap, options.Topics.Requests).Select(r => options.Topics.Requests.Decode(r.Message.Value)).ToList();
        Assert.Equal(["u1"], requests.Where(r => r.CampaignId == "vip").Select(r => r.UserId));
        Assert.Equal(["u1"], results.Where(r => r.CampaignId == "vip" && r.Status == ResultStatus.Sent).Select(r => r.UserId));
    }

    [Fact]
    public async Task Apply_refuses_a_live_ref_to_a_segment_that_is_not_saved_with_its_path()
    {
        var options = new StreamsOptions { StateDir = _f.StateDir };
        using var kafka = PipelineFixture.Kafka(options);
        var e = await Assert.ThrowsAsync<CampaignException>(() => _f.Campaigns(options).ApplyAsync(
            "id: vip\nname: VIP\ntype: live\nwho: {trigger: {event: Browsed}, segment: {any: [{ref: nosuch}]}}\nwhat: {provider: sandbox, text: Hi}"));
        Assert.Equal("who.segment.any[0].ref: no saved segment 'nosuch'", e.Message);
    }
}
