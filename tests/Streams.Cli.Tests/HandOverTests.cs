using System.Diagnostics;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Core;
using Streams.Pipeline;
using Streams.Kafka;
using Xunit.Abstractions;

namespace Streams.Cli.Tests;

/// <summary>
/// How fast a dispatcher's partitions go on: two dispatchers (static members) share a steady stream of requests, one
/// is stopped and started again (it takes its partitions back), then the other is killed and not restarted (its
/// partitions move to the survivor after the session timeout). Measured per partition as the longest pause in sends.
/// </summary>
public sealed class HandOverTests(ITestOutputHelper log) : IDisposable
{
    private readonly Cli _cli = new();

    [Fact]
    public async Task A_restarted_dispatcher_resumes_at_once_and_a_dead_ones_partitions_move_within_the_session_timeout()
    {
        var config = _cli.File("streams.yaml", "providers: {sandbox: {type: sandbox, rate: 20, burst: 4}}\nshutdown_grace: 5s\n");
        var holder = _cli.Start("run", "--roles", "sink", "--config", config);
        var dispatchers = new Dictionary<string, Process>();
        using var producing = new CancellationTokenSource();
        try
        {
            await Cli.RunningAsync(holder);
            var bootstrap = JsonDocument.Parse(File.ReadAllText(Path.Combine(_cli.Dir, ".streams", "embedded.json"))).RootElement.GetProperty("kafka").GetString()!;
            foreach (var name in new[] { "d1", "d2" }) dispatchers[name] = await StartAsync(name, config);
            var campaign = await new CampaignClient(bootstrap, Topics.Default, TimeProvider.System, NullLogger.Instance).ApplyAsync("""
                id: steady
                name: Steady
                type: live
                who: {trigger: {event: Tick}}
                what: {provider: sandbox, text: "tick"}
                """);
            // A steady stream to every partition: request ids say their partition, the outbox says when each went out.
            var producer = Task.Run(async () =>
            {
                using var p = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap }).Build();
                for (var i = 0; !producing.IsCancellationRequested; i++)
                {
                    var partition = i % 4;
                    var request = new SmsRequest($"p{partition}-{i}", "steady", campaign.Record.Version, $"u{i}", DateTimeOffset.UtcNow,
                        new RequestContext("Tick", DateTimeOffset.UtcNow, Props.Empty, $"+9198765{i % 100000:D5}", "UTC", true, Props.Empty));
                    p.Produce(new TopicPartition(Topics.Default.Requests, partition), new Message<string, byte[]> { Key = request.RequestId, Value = Codecs.SmsRequest.Encode(request) });
                    await Task.Delay(40);
                }
                p.Flush(TimeSpan.FromSeconds(10));
            });

            await Task.Delay(TimeSpan.FromSeconds(6));
            var term = DateTimeOffset.UtcNow;
            Process.Start("kill", ["-TERM", dispatchers["d1"].Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            await dispatchers["d1"].WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            dispatchers["d1"] = await StartAsync("d1", config);
            await Task.Delay(TimeSpan.FromSeconds(8));
            var kill = DateTimeOffset.UtcNow;
            dispatchers["d2"].Kill();
            await dispatchers["d2"].WaitForExitAsync();
            await Task.Delay(TimeSpan.FromSeconds(20));
            await producing.CancelAsync();
            await producer;

            var sends = File.ReadAllLines(Path.Combine(_cli.Dir, ".streams", "outbox.jsonl"))
                .Select(l => JsonDocument.Parse(l).RootElement)
                .Select(e => (Partition: e.GetProperty("request_id").GetString()![1] - '0', At: e.GetProperty("at").GetDateTimeOffset()))
                .ToList();
            TimeSpan LongestPause(int partition, DateTimeOffset from, DateTimeOffset to)
            {
                var times = sends.Where(s => s.Partition == partition && s.At >= from - TimeSpan.FromSeconds(1)).Select(s => s.At).Order().ToList();
                var pauses = times.Zip(times.Skip(1), (a, b) => (a, b)).Where(p => p.a <= to).Select(p => p.b - p.a).ToList();
                return pauses.Count == 0 ? TimeSpan.MaxValue : pauses.Max();
            }
            var restart = Enumerable.Range(0, 4).Select(p => LongestPause(p, term, term + TimeSpan.FromSeconds(8))).ToList();
            var dead = Enumerable.Range(0, 4).Select(p => LongestPause(p, kill, kill + TimeSpan.FromSeconds(19))).ToList();
            log.WriteLine($"SIGTERM and restart of d1: longest pause per partition {string.Join(", ", restart.Select(t => $"{t.TotalSeconds:0.0} s"))}");
            log.WriteLine($"SIGKILL of d2, not restarted: longest pause per partition {string.Join(", ", dead.Select(t => $"{t.TotalSeconds:0.0} s"))}");
            // Every partition goes on in both cases; the dead member's within its session timeout (10 s) and a rejoin.
            Assert.All(restart, t => Assert.True(t < TimeSpan.FromSeconds(8), $"a partition paused {t.TotalSeconds:0.0} s over a restart"));
            Assert.All(dead, t => Assert.True(t < TimeSpan.FromSeconds(19), $"a partition paused {t.TotalSeconds:0.0} s after a kill"));
        }
        finally
        {
            await producing.CancelAsync();
            foreach (var p in dispatchers.Values.Append(holder))
            {
                if (!p.HasExited) p.Kill(entireProcessTree: true);
                p.WaitForExit();
                p.Dispose();
            }
        }
    }

    private async Task<Process> StartAsync(string name, string config)
    {
        var p = _cli.Start(new Dictionary<string, string> { ["STREAMS__INSTANCE_ID"] = name }, "run", "--roles", "dispatcher", "--config", config);
        await Cli.RunningAsync(p);
        return p;
    }

    public void Dispose() => _cli.Dispose();
}
