using System.Text;
using Streams.Core;
using Streams.Core.Campaigns;
using Streams.Pipeline.Simulation;

namespace Streams.Pipeline.Tests;

/// <summary>One chain, one order, one answer: the same input through the running pipeline and through simulate.</summary>
public sealed class SimulateAgreesWithLiveTests : IDisposable
{
    private readonly PipelineFixture _f = new();

    private const string Ping = """
        id: ping
        name: Ping
        type: live
        who: {trigger: {event: Ping}}
        when: {dnd: {from: "09:00", to: "11:00", action: discard}}
        what: {provider: sandbox, text: "Ping"}
        """;

    private const string Pong = """
        id: pong
        name: Pong
        type: live
        who: {trigger: {event: Pong}}
        what: {provider: sandbox, text: "Pong"}
        """;

    private static readonly (string Key, string Json)[] Profiles =
    [
        ("u1", """{"user_id":"u1","ts":"2026-11-01T08:00:00Z","phone":"+919876543210","timezone":"UTC"}"""),
        ("u2", """{"user_id":"u2","ts":"2026-11-01T08:00:00Z","phone":"+919876543211","timezone":"UTC"}"""),
    ];

    // At 10:00 UTC, inside ping's DND hours (discard); a day cap of 1 from the configuration.
    private static readonly (string Key, string Json)[] Events =
    [
        ("u1", """{"user_id":"u1","name":"Ping","ts":"2026-12-01T10:00:00Z"}"""),
        ("u1", """{"user_id":"u1","name":"Ping","ts":"2026-12-01T10:00:01Z"}"""),
        ("u1", """{"user_id":"u1","name":"Ping","ts":"2026-12-01T10:00:02Z"}"""),
        ("u1", """{"user_id":"u1","name":"Pong","ts":"2026-12-01T10:00:03Z"}"""),
        ("u2", """{"user_id":"u2","name":"Pong","ts":"2026-12-01T10:00:00Z"}"""),
        ("u2", """{"user_id":"u2","name":"Pong","ts":"2026-12-01T10:00:01Z"}"""),
        ("u2", """{"user_id":"u2","name":"Ping","ts":"2026-12-01T10:00:02Z"}"""),
    ];

    [Fact]
    public async Task Dnd_discards_and_a_frequency_cap_end_the_same_way_live_and_in_simulate()
    {
        var options = new StreamsOptions { StateDir = _f.StateDir, Limits = new StreamsOptions.LimitsOptions { PerUser = new StreamsOptions.PerUserOptions { Day = 1 } } };
        using var kafka = PipelineFixture.Kafka(options);
        var client = _f.Campaigns(options);
        await client.ApplyAsync(Ping);
        await client.ApplyAsync(Pong);
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, options.Topics.Profiles, Profiles);
        await using var host = await _f.StartAsync(options, "agree", ["ping", "pong"], ["u1", "u2"]);
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, options.Topics.Events, Events);
        var live = await PipelineFixture.Eventually(
            () => Task.FromResult(PipelineFixture.Results(kafka.Bootstrap, options.Topics).Where(r => r.Status != ResultStatus.Delivered).ToList()),
            r => r.Count >= Events.Length);

        var simulated = await new Simulator(options).RunAsync(
            [Record(Ping), Record(Pong)],
            [.. Profiles.Select(p => Input(options.Topics.Profiles, p)), .. Events.Select(e => Input(options.Topics.Events, e))],
            null, null, CancellationToken.None);

        var expected = new[]
        {
            ("u1", "ping", ResultStatus.Suppressed, (string?)Reasons.DndDiscarded),
            ("u1", "ping", ResultStatus.Suppressed, Reasons.DndDiscarded),
            ("u1", "ping", ResultStatus.Suppressed, Reasons.DndDiscarded),
            ("u1", "pong", ResultStatus.Sent, null),
            ("u2", "ping", ResultStatus.Suppressed, Reasons.FrequencyCapped),
            ("u2", "pong", ResultStatus.Sent, null),
            ("u2", "pong", ResultStatus.Suppressed, Reasons.FrequencyCapped),
        };
        Assert.Equal(expected, live.Select(r => (r.UserId, r.CampaignId, r.Status, r.Reason)).Order());
        Assert.Equal(expected, simulated.Select(r => (r.UserId, r.CampaignId, r.Status, r.Reason)).Order());
    }

    private static CampaignRecord Record(string yaml)
    {
        var parsed = CampaignSpecParser.Parse(yaml);
        return new CampaignRecord(parsed.Spec!.Id, 1, CampaignStatus.Active, parsed.ToJson(), DateTimeOffset.UnixEpoch);
    }

    private static SimulationInput Input(string topic, (string Key, string Json) record)
    {
        var ts = System.Text.Json.JsonDocument.Parse(record.Json).RootElement.GetProperty("ts").GetDateTimeOffset();
        return new SimulationInput(topic, record.Key, Encoding.UTF8.GetBytes(record.Json), ts);
    }

    public void Dispose() => _f.Dispose();
}
