using System.Text;
using Microsoft.Extensions.Time.Testing;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Mock;
using Streamiz.Kafka.Net.SerDes;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Kafka;

namespace Streams.Topologies.Tests;

/// <summary>
/// The live topology in a TopologyTestDriver on a virtual clock: campaigns, profiles and events in (events at the
/// clock's now), requests out; advancing the clock lets the punctuator look once.
/// </summary>
internal class LivePipe(TopologyTestDriver driver, FakeTimeProvider time) : IDisposable
{
    private static readonly Topics T = Topics.Default;
    private readonly TestInputTopic<string, byte[]> _events = driver.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Events);
    private readonly TestInputTopic<string, byte[]> _profiles = driver.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Profiles);
    private readonly TestInputTopic<string, byte[]> _campaigns = driver.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Campaigns);
    private readonly TestOutputTopic<string, byte[]> _requests = driver.CreateOutputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Requests);
    private readonly DateTimeOffset _start = time.GetUtcNow();

    public void Campaign(string id, string yaml, CampaignStatus status = CampaignStatus.Active, int version = 1) =>
        _campaigns.PipeInput(id, Codecs.CampaignRecord.Encode(new CampaignRecord(id, version, status, CampaignSpecParser.Parse(yaml).ToJson(), _start)));

    /// <param name="props">The profile's properties as a JSON object.</param>
    public void Profile(string user, string phone, string props = "{}") =>
        _profiles.PipeInput(user, Encoding.UTF8.GetBytes($$"""{"user_id":"{{user}}","ts":"2026-11-01T08:00:00Z","phone":"{{phone}}","props":{{props}}}"""));

    public void Event(string user, string name, IReadOnlyDictionary<string, object?>? props = null) =>
        _events.PipeInput(user, Codecs.UserEvent.Encode(new UserEvent(user, name, time.GetUtcNow(), props ?? new Dictionary<string, object?>())));

    public void Advance(TimeSpan by)
    {
        time.Advance(by);
        driver.AdvanceWallClockTime(TimeSpan.FromSeconds(1));
    }

    public List<SmsRequest> Requests() => _requests.ReadKeyValueList().Select(r => Codecs.SmsRequest.Decode(r.Message.Value)).ToList();

    public void Dispose() => driver.Dispose();
}
