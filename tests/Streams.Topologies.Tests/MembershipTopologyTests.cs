using System.Text;
using Streamiz.Kafka.Net.Mock;
using Streamiz.Kafka.Net.SerDes;
using Streams.Core;
using Streams.Kafka;
using Streams.Topologies.LiveTrigger;
using Streams.Tests;

namespace Streams.Topologies.Tests;

/// <summary>A live campaign's ref judged from the memberships the segment job publishes to sms.memberships.</summary>
public sealed class MembershipTopologyTests : IDisposable
{
    private static readonly Topics T = Topics.Default;
    private static readonly DateTimeOffset At = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    private readonly TempDir _stateDir = new();

    public void Dispose() => _stateDir.Dispose();

    [Fact]
    public void A_ref_lets_through_the_users_the_job_last_published_in_it_and_a_later_evaluation_wins()
    {
        using var driver = Drivers.Start("membership-test", _stateDir, b => LiveTriggerTopology.Build(b, new LiveTriggerOptions()));
        var campaigns = driver.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Campaigns);
        var memberships = driver.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Memberships);
        var events = driver.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Events);
        var requests = driver.CreateOutputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Requests);
        campaigns.PipeInput("vip-nudge", Codecs.CampaignRecord.Encode(Build.Campaign(
            "id: vip-nudge\nname: VIP\ntype: live\nwho: {trigger: {event: Browsed}, segment: {all: [{ref: big-spenders}, {not: {ref: lapsed}}]}}\nwhat: {provider: sandbox, text: Hi}", at: At)));
        memberships.PipeInput("u1", Codecs.Membership.Encode(new Membership("u1", ["big-spenders"], At)));
        memberships.PipeInput("u2", Codecs.Membership.Encode(new Membership("u2", ["big-spenders", "lapsed"], At)));
        // A redelivered older evaluation does not undo a newer one.
        memberships.PipeInput("u1", Codecs.Membership.Encode(new Membership("u1", [], At.AddMinutes(-5))));

        void Browse(string user, int minute) =>
            events.PipeInput(user, Encoding.UTF8.GetBytes($$"""{"user_id":"{{user}}","name":"Browsed","ts":"2026-12-01T10:{{minute:D2}}:00Z"}"""));
        Browse("u1", 1);
        Browse("u2", 2);
        Browse("u3", 3);
        Assert.Equal(["u1"], requests.ReadKeyValueList().Select(r => Codecs.SmsRequest.Decode(r.Message.Value).UserId));

        // The next evaluation drops u1.
        memberships.PipeInput("u1", Codecs.Membership.Encode(new Membership("u1", [], At.AddMinutes(5))));
        Browse("u1", 6);
        Assert.Empty(requests.ReadKeyValueList());
    }

    [Fact]
    public void A_membership_that_does_not_decode_goes_to_the_dlq_with_its_reason()
    {
        using var driver = Drivers.Start("membership-dlq-test", _stateDir, b => LiveTriggerTopology.Build(b, new LiveTriggerOptions()));
        var memberships = driver.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Memberships);
        var dlq = driver.CreateOutputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Dlq);
        memberships.PipeInput("u1", Encoding.UTF8.GetBytes("""{"user_id":"u1","segments":"not-a-list","evaluated_at":"2026-12-01T10:00:00Z"}"""));
        var dead = Assert.Single(dlq.ReadKeyValueList());
        Assert.Equal("u1", dead.Message.Key);
    }
}
