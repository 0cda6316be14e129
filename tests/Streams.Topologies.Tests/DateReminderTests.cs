using System.Text;
using Microsoft.Extensions.Time.Testing;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Mock;
using Streamiz.Kafka.Net.SerDes;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Kafka;
using Streams.Topologies.LiveTrigger;
using Streams.Tests;

namespace Streams.Topologies.Tests;

/// <summary>Two days before departure at 10:00 in the user's time zone, on a virtual clock.</summary>
public sealed class DateReminderTests : IDisposable
{
    private static readonly Topics T = Topics.Default;
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    private readonly TempDir _stateDir = new();
    private readonly FakeTimeProvider _time = new(Now);

    private const string Flight = """
        id: flight
        name: Flight reminder
        type: live
        who:
          trigger:
            event: Flight Booked
            date: {event: Flight Booked, prop: departure, offset: -2d, at: "10:00"}
        what: {provider: sandbox, text: "Your flight is in two days"}
        """;

    private TopologyTestDriver Driver() =>
        Drivers.Start("reminder-test", _stateDir, b => LiveTriggerTopology.Build(b, new LiveTriggerOptions { Time = _time }));

    private sealed record Io(TestInputTopic<string, byte[]> Events, TestOutputTopic<string, byte[]> Requests);

    private Io Open(TopologyTestDriver driver)
    {
        var campaigns = driver.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Campaigns);
        var profiles = driver.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Profiles);
        campaigns.PipeInput("flight", Codecs.CampaignRecord.Encode(new CampaignRecord("flight", 1, CampaignStatus.Active, CampaignSpecParser.Parse(Flight).ToJson(), Now)));
        profiles.PipeInput("u1", Encoding.UTF8.GetBytes("""{"user_id":"u1","ts":"2026-11-01T08:00:00Z","phone":"+14155550123","timezone":"Asia/Kolkata"}"""));
        return new Io(driver.CreateInputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Events),
            driver.CreateOutputTopic<string, byte[], StringSerDes, ByteArraySerDes>(T.Requests));
    }

    private static void Book(Io io, string? departure) =>
        io.Events.PipeInput("u1", Encoding.UTF8.GetBytes(departure is null
            ? """{"user_id":"u1","name":"Flight Booked","ts":"2026-12-01T10:00:00Z","props":{"booking":"B1"}}"""
            : $$$"""{"user_id":"u1","name":"Flight Booked","ts":"2026-12-01T10:00:00Z","props":{"booking":"B1","departure":"{{{departure}}}"}}"""));

    private void AdvanceTo(TopologyTestDriver driver, DateTimeOffset at)
    {
        _time.SetUtcNow(at);
        driver.AdvanceWallClockTime(TimeSpan.FromSeconds(1));
    }

    private static int Count(Io io) => io.Requests.ReadKeyValueList().Count();

    [Fact]
    public void Reminder_fires_two_days_before_departure_at_ten_in_the_users_zone()
    {
        using var driver = Driver();
        var io = Open(driver);
        Book(io, "2026-12-10T06:00:00+05:30");
        var due = new DateTimeOffset(2026, 12, 8, 10, 0, 0, TimeSpan.FromHours(5.5)); // 04:30Z
        AdvanceTo(driver, due.AddMilliseconds(-1));
        Assert.Equal(0, Count(io));
        AdvanceTo(driver, due);
        Assert.Equal(1, Count(io));
        AdvanceTo(driver, due.AddDays(3));
        Assert.Equal(0, Count(io));
    }

    [Fact]
    public void A_later_event_for_the_booking_reschedules_and_one_without_a_date_cancels()
    {
        using var driver = Driver();
        var io = Open(driver);
        Book(io, "2026-12-10");
        Book(io, "2026-12-12");
        AdvanceTo(driver, new DateTimeOffset(2026, 12, 8, 10, 0, 0, TimeSpan.FromHours(5.5)));
        Assert.Equal(0, Count(io));
        AdvanceTo(driver, new DateTimeOffset(2026, 12, 10, 10, 0, 0, TimeSpan.FromHours(5.5)));
        Assert.Equal(1, Count(io));

        Book(io, "2026-12-20");
        Book(io, null);
        AdvanceTo(driver, new DateTimeOffset(2026, 12, 25, 0, 0, 0, TimeSpan.Zero));
        Assert.Equal(0, Count(io));
    }

    [Fact]
    public void A_reminder_already_in_the_past_is_not_sent()
    {
        using var driver = Driver();
        var io = Open(driver);
        Book(io, "2026-12-02T08:00:00Z");
        AdvanceTo(driver, Now.AddDays(5));
        Assert.Equal(0, Count(io));
    }

    [Fact]
    public void The_reminder_date_must_come_from_the_trigger_event()
    {
        var problems = CampaignSpecParser.Parse(Flight.Replace("date: {event: Flight Booked", "date: {event: Hotel Booked")).Problems;
        Assert.Contains(problems, p => p.Path == "who.trigger.date.event");
    }

    public void Dispose()
    {
        _stateDir.Dispose();
    }
}
