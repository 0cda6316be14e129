using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Streams.Core;
using Streams.Kafka;

namespace Streams.Pipeline.Tests;

/// <summary>
/// The dispatcher against a Redis of its own that goes away and comes back empty: sending pauses (no send without a
/// claim), the dispatcher never exits, and once Redis answers without its epoch the counters and consent are rebuilt
/// from Kafka before anything more is sent: a cap of one a day stays one a day, an opted-out user stays opted out.
/// </summary>
public sealed class RedisFaultTests : IDisposable
{
    private readonly PipelineFixture _f = new();
    private readonly int _port = FreePort();
    private Process? _redis;

    private const string Ping = """
        id: ping
        name: Ping
        type: live
        who: {trigger: {event: Ping}}
        what: {provider: sandbox, text: "Ping"}
        """;

    [Fact]
    public async Task A_dispatcher_waits_out_a_redis_that_is_down_and_rebuilds_one_that_came_back_empty()
    {
        var options = new StreamsOptions
        {
            StateDir = _f.StateDir,
            Redis = $"127.0.0.1:{_port}",
            RedisPrefix = $"fault-{Guid.NewGuid():N}:",
            Limits = new StreamsOptions.LimitsOptions { PerUser = new StreamsOptions.PerUserOptions { Day = 1 } },
        };
        using var kafka = PipelineFixture.Kafka(options);
        var topics = options.Topics;
        await _f.Campaigns(options).ApplyAsync(Ping);
        var users = Enumerable.Range(1, 10).Select(i => $"u{i}").ToList();
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Profiles,
            [.. users.Select((u, i) => (u, $$"""{"user_id":"{{u}}","ts":"2026-11-01T08:00:00Z","phone":"+9198765432{{i:D2}}","timezone":"UTC"}"""))]);

        // The pipeline starts while Redis is not there: it starts, and the dispatcher waits.
        await using var host = await _f.StartAsync(options, "fault", ["ping"], [.. users]);
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Events, [.. users.Select(u => (u, Event(u, "10:00:00")))]);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Empty(Sent(kafka.Bootstrap, topics));
        Assert.False(host.Completion.IsCompleted, $"the pipeline stopped while Redis was down: {host.Completion.Exception?.GetBaseException().Message}");

        StartRedis();
        await PipelineFixture.Eventually(() => Task.FromResult(Sent(kafka.Bootstrap, topics)), s => s.Count == 10);
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Inbound,
            ("+919876543209", """{"id":"in-1","provider":"sandbox","from":"+919876543209","body":"STOP","received_at":"2026-12-01T10:00:30Z"}"""));
        await PipelineFixture.Eventually(() => host.Counters.OptedOutAsync([["phone:+919876543209"]]), o => o[0]);

        // Redis goes away without saving, and comes back empty.
        StopRedis();
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Events, [.. users.Select(u => (u, Event(u, "10:01:00")))]);
        // Consent keeps flowing while Redis is away: the consent loop waits for it too, and does not stop the process.
        await PipelineFixture.ProduceJsonAsync(kafka.Bootstrap, topics.Profiles, ("u1", """{"user_id":"u1","ts":"2026-12-01T10:00:40Z","sms_opt_in":true}"""));
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(host.Completion.IsCompleted, $"the pipeline stopped when Redis went away: {host.Completion.Exception?.GetBaseException().Message}");
        StartRedis();

        var second = await PipelineFixture.Eventually(
            () => Task.FromResult(PipelineFixture.Results(kafka.Bootstrap, topics).Where(r => r.Status == ResultStatus.Suppressed).ToList()),
            r => r.Count >= 10);
        Assert.Equal(10, Sent(kafka.Bootstrap, topics).Count);
        Assert.Equal(10, File.ReadAllLines(Path.Combine(_f.StateDir, "outbox.jsonl")).Length);
        Assert.Equal(
            [.. users.Select(u => (u, u == "u10" ? Reasons.OptedOut : Reasons.FrequencyCapped))],
            second.Select(r => (r.UserId, r.Reason!)).OrderBy(r => int.Parse(r.UserId[1..], System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static string Event(string user, string time) => $$"""{"user_id":"{{user}}","name":"Ping","ts":"2026-12-01T{{time}}Z"}""";

    private static List<SmsResult> Sent(string bootstrap, Topics topics) =>
        PipelineFixture.Results(bootstrap, topics).Where(r => r.Status == ResultStatus.Sent).DistinctBy(r => r.RequestId).ToList();

    private void StartRedis()
    {
        _redis = Process.Start(new ProcessStartInfo("redis-server", ["--port", _port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no"])
        { RedirectStandardOutput = true, RedirectStandardError = true })!;
        _redis.BeginOutputReadLine();
        _redis.BeginErrorReadLine();
    }

    private void StopRedis()
    {
        _redis?.Kill();
        _redis?.WaitForExit();
        _redis?.Dispose();
        _redis = null;
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        StopRedis();
        _f.Dispose();
    }
}
