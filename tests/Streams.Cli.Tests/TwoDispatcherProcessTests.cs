using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Core;
using Streams.Pipeline;
using Streams.Kafka;
using Streams.Tests;
using Xunit.Abstractions;

namespace Streams.Cli.Tests;

/// <summary>
/// Two `streams run --roles dispatcher` processes in one consumer group share sms.requests and one Redis.
/// Requests are keyed by request id, so one user's requests and one campaign's users land on both
/// processes at once: the caps and the reach limit must hold across processes, not only within one.
/// </summary>
public sealed class TwoDispatcherProcessTests(ITestOutputHelper log) : IDisposable
{
    private readonly Cli _cli = new();
    private static readonly Topics T = Topics.Default;

    [Fact]
    public async Task Two_dispatcher_processes_never_pass_a_cap_or_a_reach_limit()
    {
        using var kafka = new EmbeddedKafka();
        EmbeddedKafka.EnsureTopics(kafka.Bootstrap, T);
        var client = new CampaignClient(kafka.Bootstrap, T, TimeProvider.System, NullLogger.Instance);
        await client.ApplyAsync("""
            id: scarce
            name: Scarce
            type: live
            who: {trigger: {event: Go}, reach: {limit: 7}}
            what: {provider: sandbox, text: "You are one of seven"}
            """);
        await client.ApplyAsync("""
            id: probe
            name: Probe
            type: live
            who: {trigger: {event: Probe}}
            when: {global_limits: ignore}
            what: {provider: sandbox, text: "Probe"}
            """);
        await client.ApplyAsync("""
            id: chatty
            name: Chatty
            type: live
            who: {trigger: {event: Tick}}
            what: {provider: sandbox, text: "Again"}
            """);

        var environment = new Dictionary<string, string>
        {
            ["STREAMS__KAFKA__BOOTSTRAP"] = kafka.Bootstrap,
            ["STREAMS__REDIS"] = Services.Redis,
            ["STREAMS__REDIS_PREFIX"] = $"test-{Guid.NewGuid():N}:",
            ["STREAMS__LIMITS__PER_USER__DAY"] = "3",
        };
        var processes = new[] { "a", "b" }.Select(name => _cli.Start(
            new Dictionary<string, string>(environment) { ["STREAMS__STATE_DIR"] = Path.Combine(_cli.Dir, name) },
            "run", "--roles", "dispatcher")).ToArray();
        try
        {
            foreach (var p in processes) await Cli.RunningAsync(p);

            // "running" comes before a process has its partitions: probes (a campaign of their own, never capped) go
            // until both processes have sent one, so both hold partitions before the requests under test arrive.
            using (var probes = CliContext.Producer(kafka.Bootstrap))
            {
                var n = 0;
                await Eventually.Async(() =>
                {
                    for (var k = 0; k < 8; k++, n++)
                    {
                        var probe = Request("probe", $"p{n}", "Probe", DateTimeOffset.UtcNow, n);
                        probes.Produce(T.Requests, new Message<string, byte[]> { Key = probe.RequestId, Value = Codecs.SmsRequest.Encode(probe) });
                    }
                    probes.Flush(TimeSpan.FromSeconds(10));
                    return new[] { "a", "b" }.All(name => File.Exists(Path.Combine(_cli.Dir, name, "outbox.jsonl")));
                }, both => both, TimeSpan.FromSeconds(90));
            }

            // 40 users for the limit of 7; 10 users with 6 requests each against a day cap of 3.
            var now = DateTimeOffset.UtcNow;
            var requests = Enumerable.Range(0, 40).Select(i => Request("scarce", $"s{i:D2}", "Go", now, i))
                .Concat(Enumerable.Range(0, 60).Select(i => Request("chatty", $"c{i % 10}", "Tick", now.AddMilliseconds(i), i)))
                .ToList();
            using (var producer = CliContext.Producer(kafka.Bootstrap))
            {
                foreach (var r in requests)
                    producer.Produce(T.Requests, new Message<string, byte[]> { Key = r.RequestId, Value = Codecs.SmsRequest.Encode(r) });
                producer.Flush(TimeSpan.FromSeconds(10));
            }

            var results = (await FinalResultsAsync(kafka.Bootstrap, requests.Count, TimeSpan.FromSeconds(90), "probe")).ToList();
            var sent = results.Where(r => r.Status == ResultStatus.Sent).ToList();
            log.WriteLine($"{results.Count} results; sent by campaign: {string.Join(", ", sent.GroupBy(r => r.CampaignId).Select(g => $"{g.Key} {g.Count()}"))}");

            Assert.Equal(requests.Count, results.Count);
            Assert.Equal(7, sent.Count(r => r.CampaignId == "scarce"));
            Assert.Equal(33, results.Count(r => r.CampaignId == "scarce" && r.Reason is Reasons.LimitReached or Reasons.CampaignInactive));
            Assert.All(Enumerable.Range(0, 10), i => Assert.Equal(3, sent.Count(r => r.UserId == $"c{i}")));
            Assert.Equal(30, results.Count(r => r.Reason == Reasons.FrequencyCapped));
            // Both processes did part of the work, and together sent each message once.
            Assert.All(new[] { "a", "b" }, name => Assert.True(File.Exists(Path.Combine(_cli.Dir, name, "outbox.jsonl")), $"{name} sent nothing"));
            var outbox = new[] { "a", "b" }.SelectMany(name => File.ReadAllLines(Path.Combine(_cli.Dir, name, "outbox.jsonl")))
                .Where(line => !line.Contains("\"campaign_id\":\"probe\"", StringComparison.Ordinal)).ToList();
            Assert.Equal(37, outbox.Count);
        }
        finally
        {
            foreach (var p in processes)
            {
                if (!p.HasExited) p.Kill(entireProcessTree: true);
                await p.WaitForExitAsync();
                p.Dispose();
            }
        }
    }

    private static SmsRequest Request(string campaign, string user, string ev, DateTimeOffset ts, int i) =>
        new(RequestIds.ForTrigger(campaign, user, ev, ts), campaign, 1, user, ts,
            new RequestContext(ev, ts, Props.Empty, $"+9198765{i:D5}", "Asia/Kolkata", true, Props.Empty));

    /// <summary>Dispatcher results (not delivery reports), the first per request.</summary>
    private static async Task<List<SmsResult>> FinalResultsAsync(string bootstrap, int expected, TimeSpan timeout, string leaveOut)
    {
        IEnumerable<SmsResult> Outcomes(IEnumerable<SmsResult> results) =>
            results.Where(r => r.Status is not (ResultStatus.Delivered or ResultStatus.Sending) && r.CampaignId != leaveOut);
        var read = await KafkaTest.FollowAsync(bootstrap, T.Results, r => Outcomes(r).Select(x => x.RequestId).Distinct().Count() >= expected, timeout);
        var found = new Dictionary<string, SmsResult>();
        foreach (var result in Outcomes(read.Select(r => r.Value)))
        {
            // A batch caught in the rebalance as the second process joins is redelivered and its results emitted
            // again (at least once); a request sent once is re-reported as sent, never as refused.
            if (found.TryGetValue(result.RequestId, out var earlier))
            {
                Assert.True(earlier.Status == ResultStatus.Sent == (result.Status == ResultStatus.Sent),
                    $"request {result.RequestId} reported {earlier.Status} {earlier.Reason} and then {result.Status} {result.Reason}");
                continue;
            }
            found[result.RequestId] = result;
        }
        return [.. found.Values];
    }

    public void Dispose() => _cli.Dispose();
}
