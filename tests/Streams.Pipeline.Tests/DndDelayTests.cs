using Streams.Core;
using Streams.Kafka;

namespace Streams.Pipeline.Tests;

/// <summary>DND delay through sms.scheduled and the timer topology, with consent re-checked when the window ends.</summary>
public sealed class DndDelayTests : IDisposable
{
    private readonly PipelineFixture _f = new();

    [Fact]
    public async Task A_stop_arriving_while_a_message_waits_in_dnd_delay_suppresses_it_and_others_go_at_the_windows_end()
    {
        // 22:30 in Kolkata: inside the campaign's 22:00-09:00 DND hours for both users (time zone from their +91 numbers).
        var night = new DateTimeOffset(2026, 12, 1, 17, 0, 0, TimeSpan.Zero);
        var windowEnd = new DateTimeOffset(2026, 12, 2, 3, 30, 0, TimeSpan.Zero);
        _f.Time.SetUtcNow(night);
        var options = new StreamsOptions { StateDir = _f.StateDir };
        using var kafka = PipelineFixture.Kafka(options);
        var topics = options.Topics;
        var client = _f.Campaigns(options);
        await client.ApplyAsync("""
            id: night
            name: night
            type: live
            who: {trigger: {event: Ping}}
            when: {dnd: {from: "22:00", to: "09:00", action: delay}}
            what: {provider: sandbox, text: "Good morning"}
            """);
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Profiles,
            ("u1", """{"user_id":"u1","ts":"2026-11-01T08:00:00Z","phone":"+919876543210"}"""),
            ("u2", """{"user_id":"u2","ts":"2026-11-01T08:00:00Z","phone":"+919876543211"}"""));

        await using var host = await _f.StartAsync(options, "dnd", ["night"], ["u1", "u2"]);
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Events,
            ("u1", """{"user_id":"u1","name":"Ping","ts":"2026-12-01T17:00:00Z"}"""),
            ("u2", """{"user_id":"u2","name":"Ping","ts":"2026-12-01T17:00:00Z"}"""));

        var waiting = await PipelineFixture.Eventually(
            () => Task.FromResult(PipelineFixture.ReadAll(kafka.Bootstrap, topics.Scheduled).Select(r => Codecs.ScheduledRequest.Decode(r.Message.Value)).ToList()),
            s => s.Count >= 2);
        Assert.All(waiting, w => Assert.Equal((windowEnd, "dnd"), (w.DueAt, w.Cause)));
        Assert.Empty(PipelineFixture.Results(kafka.Bootstrap, topics));

        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Inbound,
            ("+919876543210", """{"id":"in-1","provider":"sandbox","from":"+919876543210","body":"STOP","received_at":"2026-12-01T17:05:00Z"}"""));
        await PipelineFixture.Eventually(() => host.Counters.OptedOutAsync([["phone:+919876543210"]]), o => o[0]);

        _f.Time.SetUtcNow(windowEnd);
        var results = await PipelineFixture.Eventually(() => Task.FromResult(PipelineFixture.Results(kafka.Bootstrap, topics)), r => r.Count >= 2);
        Assert.Equal(2, results.Count);
        Assert.Equal((ResultStatus.Suppressed, Reasons.OptedOut), results.Single(r => r.UserId == "u1") is var u1 ? (u1.Status, u1.Reason) : default);
        var u2 = results.Single(r => r.UserId == "u2");
        Assert.Equal((ResultStatus.Sent, windowEnd), (u2.Status, u2.Ts));
        Assert.Equal(windowEnd, Assert.Single(File.ReadAllLines(host.OutboxPath)) is var line ? Dispatcher.Providers.SandboxProvider.TryRead(line)!.At : default);
    }

    public void Dispose() => _f.Dispose();
}
