using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Core;
using Streams.Pipeline;
using Streams.Kafka;
using Xunit.Abstractions;
using Streams.Topologies;
using Streams.Tests;

namespace Streams.Cli.Tests;

/// <summary>
/// Two `streams run --roles topology` processes share the live topology's partitions on one mock cluster
/// (owned by this test process); one is killed (SIGKILL) while every inaction timer waits. The survivor takes
/// over the dead one's partitions, restores its timers from the changelog and fires them: every user gets
/// exactly one request id, none before its due time.
/// </summary>
public sealed class TwoProcessTimerTests(ITestOutputHelper log) : IDisposable
{
    private readonly Cli _cli = new();
    private static readonly Topics T = Topics.Default;
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(25);
    private const int Users = 120;

    [Fact]
    public async Task Every_inaction_timer_fires_once_when_one_of_two_pipeline_processes_is_killed()
    {
        using var kafka = new EmbeddedKafka();
        EmbeddedKafka.EnsureTopics(kafka.Bootstrap, T);
        var client = new CampaignClient(kafka.Bootstrap, T, TimeProvider.System, NullLogger.Instance);
        await client.ApplyAsync("""
            id: nudge
            name: Nudge
            type: live
            who: {trigger: {event: Added To Cart, inaction: {event: Charged, within: 25s}}}
            what: {provider: sandbox, text: "Still there?"}
            """);

        var processes = new[] { Start("a", kafka.Bootstrap), Start("b", kafka.Bootstrap) };
        try
        {
            foreach (var p in processes) await RunningAsync(p);
            // Both processes hold live-topology tasks before the events come (the group settles after a rebalance):
            // otherwise the one killed may have held none, and the test would prove nothing.
            var settled = Stopwatch.StartNew();
            while (!new[] { "a", "b" }.All(n => Tasks(n).Count > 0) && settled.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(200);
            log.WriteLine($"tasks before the events: a {Tasks("a").Count}, b {Tasks("b").Count} (after {settled.Elapsed.TotalSeconds:0.0} s)");

            var t0 = DateTimeOffset.UtcNow;
            using (var producer = CliContext.Producer(kafka.Bootstrap))
            {
                for (var i = 0; i < Users; i++)
                {
                    var user = $"u{i}";
                    producer.Produce(T.Events, new Message<string, byte[]>
                    {
                        Key = user,
                        Value = Encoding.UTF8.GetBytes($$"""{"user_id":"{{user}}","name":"Added To Cart","ts":"{{t0:O}}"}"""),
                    });
                }
                producer.Flush(TimeSpan.FromSeconds(10));
            }

            // Long enough for both to have stored their timers (and the changelog to have them), well before they are due.
            await Task.Delay(TimeSpan.FromSeconds(6));
            processes[0].Kill(entireProcessTree: true);
            await processes[0].WaitForExitAsync();
            log.WriteLine($"killed process a at +{(DateTimeOffset.UtcNow - t0).TotalSeconds:0.0} s");
            // The killed process held live-topology tasks (and so timers): Streamiz keeps a directory per task it ran.
            var tasks = Tasks("a");
            log.WriteLine($"process a ran {tasks.Count} of 4 live-topology tasks");
            Assert.NotEmpty(tasks);

            var requests = await ReadRequestsAsync(kafka.Bootstrap, Users, t0 + Window + TimeSpan.FromSeconds(75));
            var byUser = requests.GroupBy(r => r.Request.UserId).ToDictionary(g => g.Key, g => g.ToList());
            log.WriteLine($"{requests.Count} requests for {byUser.Count} users; last at +{(requests.Max(r => r.At) - t0).TotalSeconds:0.0} s");

            Assert.Equal(Users, byUser.Count);
            foreach (var (user, list) in byUser)
            {
                // A redelivered timer would carry the same id, which the dispatcher sends at most once.
                Assert.Single(list.Select(r => r.Request.RequestId).Distinct());
                Assert.Equal(RequestIds.ForTrigger("nudge", user, "Added To Cart", DateTimeOffset.Parse(t0.ToString("O"))), list[0].Request.RequestId);
                Assert.All(list, r => Assert.True(r.At >= t0 + Window - TimeSpan.FromMilliseconds(1), $"{user} fired before its window ended"));
            }
            var duplicates = requests.Count - Users;
            log.WriteLine($"duplicate SmsRequests (same id) from the kill: {duplicates}");
            Assert.Equal(0, duplicates);
            Assert.False(processes[1].HasExited, "the surviving process stopped");
        }
        finally
        {
            foreach (var p in processes)
            {
                if (!p.HasExited) p.Kill(entireProcessTree: true);
                await p.WaitForExitAsync();
                log.WriteLine($"process stderr: {await p.StandardError.ReadToEndAsync()}");
                p.Dispose();
            }
        }
    }

    /// <summary>The live-topology tasks a process ran: Streamiz keeps a directory per task.</summary>
    private List<string> Tasks(string process)
    {
        var dir = Path.Combine(_cli.Dir, process);
        return Directory.Exists(dir) ? [.. Directory.EnumerateDirectories(dir, StoreNames.UserState, SearchOption.AllDirectories)] : [];
    }

    private Process Start(string name, string bootstrap) => _cli.Start(new Dictionary<string, string>
    {
        ["STREAMS__KAFKA__BOOTSTRAP"] = bootstrap,
        ["STREAMS__STATE_DIR"] = Path.Combine(_cli.Dir, name),
    }, "run", "--roles", "topology");

    private static Task RunningAsync(Process p) => Cli.RunningAsync(p);

    /// <summary>Past the last first-time request, keeps reading a little: a duplicate would come after it.</summary>
    private static async Task<List<(SmsRequest Request, DateTimeOffset At)>> ReadRequestsAsync(string bootstrap, int users, DateTimeOffset until) =>
        await KafkaTest.FollowAsync(bootstrap, T.Requests, read => read.Select(r => r.UserId).Distinct().Count() == users,
            until - DateTimeOffset.UtcNow, settle: TimeSpan.FromSeconds(5));

    public void Dispose() => _cli.Dispose();
}
