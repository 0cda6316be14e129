using System.Text;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Mock;
using Streamiz.Kafka.Net.SerDes;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Kafka;
using Streams.Topologies.LiveTrigger;
using Streams.Tests;

namespace Streams.Topologies.Tests;

public sealed class LiveTriggerTopologyTests : IDisposable
{
    private static readonly Topics T = Topics.Default;
    private static readonly DateTimeOffset At = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    private readonly TempDir _stateDir = new();

    private const string Cart = """
        id: cart
        name: Cart
        type: live
        who:
          trigger:
            event: Added To Cart
            where: [{prop: value, op: gte, value: 500}]
        when: {start: "2026-12-01T00:00Z", end: "2026-12-31T00:00Z"}
        what: {provider: sandbox, from: "+14155550100", text: "Hi {{ profile.first_name | default: 'there' }}"}
        """;

    private TopologyTestDriver Driver() =>
        Drivers.Start("live-trigger-test", _stateDir, b => LiveTriggerTopology.Build(b, new LiveTriggerOptions()));

    private static CampaignRecord Campaign(string yaml, CampaignStatus status = CampaignStatus.Active, int version = 1) =>
        Build.Campaign(yaml, status, version, At);

    private static byte[] Json(string s) => Encoding.UTF8.GetBytes(s);

    private sealed record Io(
        TestInputTopic<string, byte[]> Events, TestInputTopic<string, byte[]> Profiles,
        TestInputTopic<string, byte[]> Campaigns, TestOutputTopic<string, byte[]> Requests, TestOutputTopic<string, byte[]> Dlq);

    private static Io Open(TopologyTestDriver d) => new(
        d.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Events),
        d.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Profiles),
        d.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Campaigns),
        d.CreateOutputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Requests),
        d.CreateOutputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Dlq));

    private static List<SmsRequest> Requests(Io io) =>
        io.Requests.ReadKeyValueList().Select(r => Codecs.SmsRequest.Decode(r.Message.Value)).ToList();

    [Fact]
    public void Matching_event_becomes_one_request_with_the_profile_and_a_deterministic_id()
    {
        using var driver = Driver();
        var io = Open(driver);
        io.Campaigns.PipeInput("cart", Codecs.CampaignRecord.Encode(Campaign(Cart)));
        io.Profiles.PipeInput("u1", Json("""{"user_id":"u1","ts":"2026-11-01T08:00:00Z","phone":"+919876543210","props":{"first_name":"Asha"}}"""));
        io.Events.PipeInput("u1", Json("""{"user_id":"u1","name":"Added To Cart","ts":"2026-12-01T10:00:00Z","props":{"value":799.0}}"""));

        var request = Assert.Single(Requests(io));
        Assert.Equal("cart", request.CampaignId);
        Assert.Equal("u1", request.UserId);
        Assert.Equal("+919876543210", request.Context.Phone);
        Assert.Equal("Asha", request.Context.ProfileProps["first_name"]);
        Assert.Equal(799.0, request.Context.EventProps["value"]);
        Assert.Equal(RequestIds.ForTrigger("cart", "u1", "Added To Cart", At), request.RequestId);
    }

    [Fact]
    public void Events_that_miss_the_trigger_filter_window_or_name_make_no_request()
    {
        using var driver = Driver();
        var io = Open(driver);
        io.Campaigns.PipeInput("cart", Codecs.CampaignRecord.Encode(Campaign(Cart)));
        io.Events.PipeInput("u1", Json("""{"user_id":"u1","name":"Added To Cart","ts":"2026-12-01T10:00:00Z","props":{"value":499}}"""));
        io.Events.PipeInput("u1", Json("""{"user_id":"u1","name":"Added To Cart","ts":"2026-11-30T23:59:59Z","props":{"value":900}}"""));
        io.Events.PipeInput("u1", Json("""{"user_id":"u1","name":"Added To Cart","ts":"2026-12-31T00:00:00Z","props":{"value":900}}"""));
        io.Events.PipeInput("u1", Json("""{"user_id":"u1","name":"Charged","ts":"2026-12-01T10:00:00Z","props":{"value":900}}"""));
        Assert.Empty(Requests(io));
    }

    [Fact]
    public void Paused_campaign_stops_matching_and_resumed_one_matches_again()
    {
        using var driver = Driver();
        var io = Open(driver);
        io.Campaigns.PipeInput("cart", Codecs.CampaignRecord.Encode(Campaign(Cart, CampaignStatus.Paused, 2)));
        io.Events.PipeInput("u1", Json("""{"user_id":"u1","name":"Added To Cart","ts":"2026-12-01T10:00:00Z","props":{"value":900}}"""));
        Assert.Empty(Requests(io));
        io.Campaigns.PipeInput("cart", Codecs.CampaignRecord.Encode(Campaign(Cart, CampaignStatus.Active, 3)));
        io.Events.PipeInput("u1", Json("""{"user_id":"u1","name":"Added To Cart","ts":"2026-12-01T10:00:01Z","props":{"value":900}}"""));
        Assert.Single(Requests(io));
    }

    [Fact]
    public void Partial_profile_updates_merge_before_the_event_reads_them()
    {
        using var driver = Driver();
        var io = Open(driver);
        io.Campaigns.PipeInput("cart", Codecs.CampaignRecord.Encode(Campaign(Cart)));
        io.Profiles.PipeInput("u1", Json("""{"user_id":"u1","ts":"2026-11-01T08:00:00Z","phone":"+919876543210"}"""));
        io.Profiles.PipeInput("u1", Codecs.ProfileUpdate.Encode(new ProfileUpdate("u1", At.AddDays(-1), Timezone: "Asia/Kolkata",
            Props: new Dictionary<string, object?> { ["city"] = "Mumbai" })));
        io.Events.PipeInput("u1", Json("""{"user_id":"u1","name":"Added To Cart","ts":"2026-12-01T10:00:00Z","props":{"value":900}}"""));
        var request = Assert.Single(Requests(io));
        Assert.Equal("+919876543210", request.Context.Phone);
        Assert.Equal("Asia/Kolkata", request.Context.Timezone);
        Assert.Equal("Mumbai", request.Context.ProfileProps["city"]);
    }

    [Fact]
    public void Malformed_event_goes_to_dlq_with_source_headers_and_the_next_valid_one_still_matches()
    {
        using var driver = Driver();
        var io = Open(driver);
        io.Campaigns.PipeInput("cart", Codecs.CampaignRecord.Encode(Campaign(Cart)));
        var bad = Json("""{"user_id":"u1","name":"Added To Cart"}""");
        io.Events.PipeInput("u1", bad);
        io.Events.PipeInput("u1", Json("""{"user_id":"u1","name":"Added To Cart","ts":"2026-12-01T10:00:00Z","props":{"value":900}}"""));

        var dead = Assert.Single(io.Dlq.ReadKeyValueList());
        Assert.Equal(bad, dead.Message.Value);
        string Header(string k) => Encoding.UTF8.GetString(dead.Message.Headers.GetLastBytes(k));
        Assert.Equal("missing_field", Header(DlqHeaders.Reason));
        Assert.Contains("'ts'", Header(DlqHeaders.Error));
        Assert.Equal(T.Events, Header(DlqHeaders.SourceTopic));
        Assert.Equal("0", Header(DlqHeaders.SourceOffset));
        Assert.Single(Requests(io));
    }

    [Fact]
    public void Record_keyed_by_something_other_than_the_user_id_goes_to_dlq()
    {
        using var driver = Driver();
        var io = Open(driver);
        io.Profiles.PipeInput("someone-else", Json("""{"user_id":"u1","ts":"2026-11-01T08:00:00Z","phone":"+919876543210"}"""));
        var dead = Assert.Single(io.Dlq.ReadKeyValueList());
        Assert.Equal("key_mismatch", Encoding.UTF8.GetString(dead.Message.Headers.GetLastBytes(DlqHeaders.Reason)));
        Assert.Equal(T.Profiles, Encoding.UTF8.GetString(dead.Message.Headers.GetLastBytes(DlqHeaders.SourceTopic)));
    }

    public void Dispose()
    {
        _stateDir.Dispose();
    }

    private const string Loyal = """
        id: loyal
        name: Loyal
        type: live
        who:
          trigger: {event: Added To Cart}
          segment:
            all:
              - profile: {prop: city, op: eq, value: Mumbai}
              - did: {event: App Launched, count: {gte: 2}, within: 30d}
              - not: {did: {event: Charged, within: 7d}}
        what: {provider: sandbox, text: "Come back"}
        """;

    private static string Ev(string user, string name, string ts) =>
        $$"""{"user_id":"{{user}}","name":"{{name}}","ts":"{{ts}}"}""";

    [Fact]
    public void Live_segment_sees_profile_and_past_behaviour_at_trigger_time()
    {
        using var driver = Driver();
        var io = Open(driver);
        io.Campaigns.PipeInput("loyal", Codecs.CampaignRecord.Encode(Campaign(Loyal)));
        foreach (var user in new[] { "in", "pune", "once", "paid" })
        {
            var city = user == "pune" ? "Pune" : "Mumbai";
            io.Profiles.PipeInput(user, Json($$$"""{"user_id":"{{{user}}}","ts":"2026-10-01T00:00:00Z","phone":"+919876543210","props":{"city":"{{{city}}}"}}"""));
            io.Events.PipeInput(user, Json(Ev(user, "App Launched", "2026-11-10T09:00:00Z")));
            if (user != "once") io.Events.PipeInput(user, Json(Ev(user, "App Launched", "2026-11-20T09:00:00Z")));
        }
        io.Events.PipeInput("paid", Json(Ev("paid", "Charged", "2026-11-26T09:00:00Z")));
        // An old launch outside the 30 days does not make "once" qualify.
        io.Events.PipeInput("once", Json(Ev("once", "App Launched", "2026-10-01T09:00:00Z")));
        foreach (var user in new[] { "in", "pune", "once", "paid" })
            io.Events.PipeInput(user, Json(Ev(user, "Added To Cart", "2026-12-01T10:00:00Z")));

        Assert.Equal(["in"], Requests(io).Select(r => r.UserId).ToList());

        // A day later the same user still qualifies: the summary kept what the segment needs.
        io.Events.PipeInput("in", Json(Ev("in", "Added To Cart", "2026-12-02T10:00:00Z")));
        Assert.Single(Requests(io));
    }
}
