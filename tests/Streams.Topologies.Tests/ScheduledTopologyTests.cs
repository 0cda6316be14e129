using System.Text;
using Microsoft.Extensions.Time.Testing;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Mock;
using Streamiz.Kafka.Net.SerDes;
using Streams.Core;
using Streams.Kafka;
using Streams.Topologies.Timers;
using Streams.Tests;

namespace Streams.Topologies.Tests;

public sealed class ScheduledTopologyTests : IDisposable
{
    private static readonly Topics T = Topics.Default;
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 16, 30, 0, TimeSpan.Zero);
    private readonly TempDir _stateDir = new();
    private readonly FakeTimeProvider _time = new(Start);

    private TopologyTestDriver Driver() =>
        Drivers.Start("timers-test", _stateDir, b => ScheduledTopology.Build(b, new ScheduledOptions { Time = _time }));

    private static ScheduledRequest Scheduled(string id, DateTimeOffset due) => new(
        new SmsRequest(id, "cart", 1, "u1", Start, new RequestContext("Added To Cart", Start, Props.Empty, "+919876543210", null, null, Props.Empty)),
        due, "dnd");

    /// <summary>Moves the injected clock, then lets the wall-clock punctuator run once.</summary>
    private void Advance(TopologyTestDriver driver, TimeSpan by)
    {
        _time.Advance(by);
        driver.AdvanceWallClockTime(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void Timers_fire_exactly_at_their_due_time_in_due_order_and_once()
    {
        using var driver = Driver();
        var input = driver.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Scheduled);
        var output = driver.CreateOutputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Requests);
        input.PipeInput("u1", Codecs.ScheduledRequest.Encode(Scheduled("late", Start.AddMinutes(10))));
        input.PipeInput("u1", Codecs.ScheduledRequest.Encode(Scheduled("early", Start.AddMinutes(5))));
        input.PipeInput("u1", Codecs.ScheduledRequest.Encode(Scheduled("early", Start.AddMinutes(5))));
        List<string> Fired() => output.ReadKeyValueList().Select(r => Codecs.SmsRequest.Decode(r.Message.Value).RequestId).ToList();

        Advance(driver, TimeSpan.FromMinutes(5) - TimeSpan.FromMilliseconds(1));
        Assert.Empty(Fired());
        Advance(driver, TimeSpan.FromMilliseconds(1));
        Assert.Equal(["early"], Fired());
        Advance(driver, TimeSpan.FromMinutes(5) - TimeSpan.FromMilliseconds(1));
        Assert.Empty(Fired());
        Advance(driver, TimeSpan.FromMilliseconds(1));
        Assert.Equal(["late"], Fired());
        Advance(driver, TimeSpan.FromHours(1));
        Assert.Empty(Fired());
    }

    [Fact]
    public void A_timer_already_due_when_it_arrives_fires_at_once()
    {
        using var driver = Driver();
        var input = driver.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Scheduled);
        var output = driver.CreateOutputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Requests);
        input.PipeInput("u1", Codecs.ScheduledRequest.Encode(Scheduled("past", Start.AddMinutes(-1))));
        Assert.Equal("past", Codecs.SmsRequest.Decode(Assert.Single(output.ReadKeyValueList()).Message.Value).RequestId);
    }

    [Fact]
    public void A_malformed_timer_goes_to_the_dlq()
    {
        using var driver = Driver();
        var input = driver.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Scheduled);
        var dlq = driver.CreateOutputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Dlq);
        input.PipeInput("u1", Encoding.UTF8.GetBytes("""{"due_at":"2026-12-01T10:00:00Z","cause":"dnd"}"""));
        var dead = Assert.Single(dlq.ReadKeyValueList());
        Assert.Equal("missing_field", Encoding.UTF8.GetString(dead.Message.Headers.GetLastBytes(DlqHeaders.Reason)));
    }

    public void Dispose()
    {
        _stateDir.Dispose();
    }
}
