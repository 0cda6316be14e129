using System.Diagnostics;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Core;
using Streams.Pipeline;
using Streams.Kafka;
using Xunit.Abstractions;
using Streams.Tests;

namespace Streams.Cli.Tests;

/// <summary>
/// A rolling deploy as an operator runs it: one `streams run` holds the embedded stack, two `streams run --roles
/// dispatcher` processes join it over the same state dir, and each dispatcher in turn gets a SIGTERM and is started
/// again while a paced backlog is being sent. Nothing is lost, nothing is sent twice, a day cap of one holds.
/// </summary>
public sealed class RollingRestartTests(ITestOutputHelper log) : IDisposable
{
    private readonly Cli _cli = new();
    private const int Users = 120;

    [Fact]
    public async Task A_rolling_restart_of_both_dispatchers_loses_and_duplicates_nothing()
    {
        var config = _cli.File("streams.yaml", """
            limits: {per_user: {day: 1}}
            providers: {sandbox: {type: sandbox, rate: 40}}
            shutdown_grace: 10s
            """);
        var holder = _cli.Start("run", "--roles", "topology", "sink", "--config", config);
        var dispatchers = new Dictionary<string, Process>();
        try
        {
            await Cli.RunningAsync(holder);
            var info = JsonDocument.Parse(File.ReadAllText(Path.Combine(_cli.Dir, ".streams", "embedded.json"))).RootElement;
            var bootstrap = info.GetProperty("kafka").GetString()!;
            foreach (var name in new[] { "d1", "d2" }) dispatchers[name] = await StartDispatcherAsync(name, config);

            var client = new CampaignClient(bootstrap, Topics.Default, TimeProvider.System, NullLogger.Instance);
            var campaign = await client.ApplyAsync("""
                id: promo
                name: Promo
                type: live
                who: {trigger: {event: Browsed}}
                what: {provider: sandbox, text: "10% off"}
                """);
            // Two requests per user, keyed by request id so each user's pair can straddle both dispatchers.
            using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap }).Build())
            {
                for (var n = 1; n <= 2; n++)
                {
                    for (var u = 0; u < Users; u++)
                    {
                        var request = new SmsRequest($"r{n}-u{u}", "promo", campaign.Record.Version, $"u{u}", DateTimeOffset.UtcNow,
                            new RequestContext("Browsed", DateTimeOffset.UtcNow, Props.Empty, $"+9198765{u:D5}", "UTC", true, Props.Empty));
                        producer.Produce(Topics.Default.Requests, new Message<string, byte[]> { Key = request.RequestId, Value = Codecs.SmsRequest.Encode(request) });
                    }
                }
                producer.Flush(TimeSpan.FromSeconds(10));
            }

            var outbox = Path.Combine(_cli.Dir, ".streams", "outbox.jsonl");
            int Sent() => File.Exists(outbox) ? File.ReadAllLines(outbox).Length : 0;
            foreach (var (name, at) in new[] { ("d1", 25), ("d2", 60) })
            {
                await WaitAsync(() => Sent() >= at, TimeSpan.FromSeconds(90), $"{at} sends before restarting {name}");
                var clock = Stopwatch.StartNew();
                Process.Start("kill", ["-TERM", dispatchers[name].Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
                Assert.True(dispatchers[name].WaitForExit(30_000), $"{name} did not stop within 30 s of SIGTERM");
                Assert.Equal(0, dispatchers[name].ExitCode);
                log.WriteLine($"{name}: SIGTERM at {Sent()} sends, stopped in {clock.ElapsedMilliseconds} ms");
                var before = Sent();
                dispatchers[name] = await StartDispatcherAsync(name, config);
                log.WriteLine($"{name}: restarted {clock.ElapsedMilliseconds} ms after the SIGTERM ({Sent() - before} sent meanwhile by the other)");
            }

            var results = await ReadResultsAsync(bootstrap, 2 * Users, TimeSpan.FromSeconds(120));
            var lines = File.ReadAllLines(outbox).Select(l => SandboxProvider_RequestId(l)).ToList();
            log.WriteLine($"{lines.Count} sends, {results.Count} results: " + string.Join(", ", results.GroupBy(r => (r.Status, r.Reason)).Select(g => $"{g.Key.Status}/{g.Key.Reason} {g.Count()}")));
            Assert.Equal(lines.Count, lines.Distinct().Count());                         // nothing sent twice
            Assert.Equal(Users, lines.Select(r => r[(r.IndexOf('-') + 1)..]).Distinct().Count()); // every user once: nothing lost, the cap held
            var byRequest = results.GroupBy(r => r.RequestId).ToDictionary(g => g.Key, g => g.Select(r => (r.Status, r.Reason)).Distinct().ToList());
            Assert.Equal(2 * Users, byRequest.Count);                                      // every request ended
            Assert.All(byRequest.Values, outcomes => Assert.Single(outcomes));           // with one outcome
            Assert.Equal(Users, byRequest.Values.Count(o => o[0].Status == ResultStatus.Sent));
            Assert.Equal(Users, byRequest.Values.Count(o => o[0] == (ResultStatus.Suppressed, Reasons.FrequencyCapped)));
        }
        finally
        {
            foreach (var p in dispatchers.Values.Append(holder))
            {
                if (!p.HasExited) p.Kill(entireProcessTree: true);
                p.WaitForExit();
                log.WriteLine($"stderr: {(await p.StandardError.ReadToEndAsync()).Trim()}");
                p.Dispose();
            }
        }
    }

    private static string SandboxProvider_RequestId(string line) => JsonDocument.Parse(line).RootElement.GetProperty("request_id").GetString()!;

    private async Task<Process> StartDispatcherAsync(string name, string config)
    {
        var p = _cli.Start(new Dictionary<string, string> { ["STREAMS__INSTANCE_ID"] = name }, "run", "--roles", "dispatcher", "--config", config);
        var lines = await Cli.RunningAsync(p);
        Assert.Contains(lines, l => l.StartsWith("streams: joining the embedded stack", StringComparison.Ordinal));
        return p;
    }

    private static async Task WaitAsync(Func<bool> done, TimeSpan timeout, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!done())
        {
            if (waited.Elapsed > timeout) throw new TimeoutException($"waited {timeout.TotalSeconds} s for {what}");
            await Task.Delay(50);
        }
    }

    /// <summary>Reads sms.results until every request has an outcome, then a little longer (a duplicate would come after).</summary>
    private static async Task<List<SmsResult>> ReadResultsAsync(string bootstrap, int requests, TimeSpan timeout) =>
        [.. Outcomes((await KafkaTest.FollowAsync(bootstrap, Topics.Default.Results, read => Outcomes(read).Select(r => r.RequestId).Distinct().Count() == requests,
            timeout, settle: TimeSpan.FromSeconds(3))).Select(r => r.Value))];

    private static IEnumerable<SmsResult> Outcomes(IEnumerable<SmsResult> results) =>
        results.Where(r => r.Status is not (ResultStatus.Delivered or ResultStatus.Sending));

    public void Dispose() => _cli.Dispose();
}
