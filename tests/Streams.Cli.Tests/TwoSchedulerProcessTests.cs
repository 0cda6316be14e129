using Microsoft.Extensions.Logging.Abstractions;
using Streams.Analytics;
using Streams.Core;
using Streams.Core.Schedules;
using Streams.Kafka;
using Streams.Pipeline;
using Streams.Tests;
using Xunit.Abstractions;

namespace Streams.Cli.Tests;

/// <summary>
/// Two `streams run --roles scheduler` processes over one ClickHouse and one Kafka: one plans, and is SIGKILLed in the
/// middle of a run; the other takes sms.runs over when the first one's session ends, resumes after the cursor, reads
/// what the dead one produced past it, and finishes. Every qualified user ends with exactly one request.
/// </summary>
public sealed class TwoSchedulerProcessTests(ITestOutputHelper log) : IDisposable
{
    private readonly Cli _cli = new();
    private static readonly Topics T = Topics.Default;
    private const int Users = 60_000;

    [Fact]
    public async Task A_scheduler_killed_mid_plan_leaves_every_qualified_user_exactly_one_request()
    {
        var database = "sched_" + Guid.NewGuid().ToString("N")[..10];
        await using (var store = ClickHouseStore.Create(Services.ClickHouse, database))
        {
            await store.MigrateAsync();
            var at = DateTimeOffset.UtcNow.AddDays(-1);
            foreach (var chunk in Enumerable.Range(0, Users).Chunk(20_000))
                await store.InsertProfilesAsync([.. chunk.Select(i => Build.Profile($"u{i:D6}", at, phone: $"+9198{i:D8}", optIn: true))]);
        }
        using var kafka = new EmbeddedKafka();
        EmbeddedKafka.EnsureTopics(kafka.Bootstrap, T);
        var environment = new Dictionary<string, string>
        {
            ["STREAMS__KAFKA__BOOTSTRAP"] = kafka.Bootstrap,
            ["STREAMS__CLICKHOUSE__URL"] = Services.ClickHouse,
            ["STREAMS__CLICKHOUSE__DATABASE"] = database,
            ["STREAMS__SCHEDULER__CHECKPOINT_EVERY"] = "500",
        };
        var processes = new[] { "a", "b" }.ToDictionary(name => name, name => _cli.Start(
            new Dictionary<string, string>(environment) { ["STREAMS__STATE_DIR"] = Path.Combine(_cli.Dir, name) },
            "run", "--roles", "scheduler"));
        try
        {
            foreach (var p in processes.Values) await Cli.RunningAsync(p);
            var campaigns = new CampaignClient(kafka.Bootstrap, T, TimeProvider.System, NullLogger.Instance);
            await campaigns.ApplyAsync("id: everyone\nname: Everyone\ntype: scheduled\nwhen: {at: now}\nwhat: {provider: sandbox, text: Hi}");

            // The planner's first checkpoints name it; kill it there, in the middle of the run.
            using var runs = KafkaClients.Reader(kafka.Bootstrap, "test-runs", NullLogger.Instance);
            runs.Assign(new Confluent.Kafka.TopicPartitionOffset(T.Runs.Name, 0, Confluent.Kafka.Offset.Beginning));
            RunRecord? first = null;
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (first is null && waited.Elapsed < TimeSpan.FromSeconds(120))
            {
                if (runs.Consume(TimeSpan.FromMilliseconds(100)) is { } m && T.Runs.Decode(m.Message.Value) is { Status: RunStatus.Planned, Cursor: not null } r) first = r;
            }
            Assert.NotNull(first);
            var killed = processes.Single(p => first.Planner!.EndsWith($"/{p.Value.Id}", StringComparison.Ordinal));
            killed.Value.Kill(entireProcessTree: true);
            await killed.Value.WaitForExitAsync();
            log.WriteLine($"killed {killed.Key} (pid {killed.Value.Id}) after its checkpoint at {first.Cursor} ({first.Planned} planned)");

            var records = new List<RunRecord>();
            while (!records.Any(r => r.Status == RunStatus.Done) && waited.Elapsed < TimeSpan.FromSeconds(240))
            {
                if (runs.Consume(TimeSpan.FromMilliseconds(100)) is { } m) records.Add(T.Runs.Decode(m.Message.Value));
            }
            var done = records.Single(r => r.Status == RunStatus.Done);
            var survivor = processes.Single(p => p.Key != killed.Key).Value;
            Assert.EndsWith($"/{survivor.Id}", done.Planner);
            Assert.True(records.Where(r => r.Planner == first.Planner).All(r => r.Status == RunStatus.Planned), "the first scheduler had finished the run before it was killed");

            var requests = KafkaTest.ReadAll(kafka.Bootstrap, T.Requests).Select(r => T.Requests.Decode(r.Message.Value)).ToList();
            log.WriteLine($"{requests.Count} requests for {requests.Select(r => r.UserId).Distinct().Count()} users; run: {done.Qualified} qualified, {done.Planned} planned");
            Assert.Equal((long)Users, done.Qualified);
            Assert.Equal((long)Users, done.Planned);
            Assert.Equal(Users, requests.Count);
            Assert.Equal(Users, requests.Select(r => r.UserId).Distinct().Count());
            Assert.All(requests, r => Assert.Equal(RequestIds.ForRun(done.RunId, r.UserId), r.RequestId));

            // What an operator sees of it.
            var config = _cli.File("streams.yaml", $"kafka: {{bootstrap: \"{kafka.Bootstrap}\"}}\nclickhouse: {{url: \"{Services.ClickHouse}\", database: {database}}}\n");
            var table = await _cli.RunAsync("campaign", "runs", "everyone", "--config", config);
            Assert.Equal(0, table.ExitCode);
            var lines = table.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.StartsWith("RUN ", lines[0]);
            Assert.Matches(@"^everyone@now +\d{4}-\d\d-\d\d \d\d:\d\d +done +60000 +60000 +0 +0", lines[1]);
            var json = await _cli.RunAsync("campaign", "runs", "everyone", "--config", config, "--format", "json");
            using var parsed = System.Text.Json.JsonDocument.Parse(json.Out);
            var row = Assert.Single(parsed.RootElement.EnumerateArray().ToList());
            Assert.Equal(("everyone@now", "done", 60000L), (row.GetProperty("run_id").GetString(), row.GetProperty("status").GetString(), row.GetProperty("planned").GetInt64()));
            var approve = await _cli.RunAsync("campaign", "approve", "everyone", "--run", "everyone@now", "--config", config);
            Assert.Equal(["streams: run 'everyone@now' is done; only a run that is held can be changed so"], approve.ErrLines);
            var unknown = await _cli.RunAsync("campaign", "runs", "nosuch", "--config", config);
            Assert.Equal(["streams: no campaign 'nosuch'"], unknown.ErrLines);
        }
        finally
        {
            foreach (var p in processes.Values)
            {
                if (!p.HasExited) p.Kill(entireProcessTree: true);
                await p.WaitForExitAsync();
                p.Dispose();
            }
        }
    }

    public void Dispose() => _cli.Dispose();
}
