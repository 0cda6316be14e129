using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Chaos;
using Streams.Core;
using Streams.Pipeline;
using Streams.Kafka;

// The chaos run (tests/chaos/run): one process holds the embedded Kafka cluster and runs the sink; two topology
// and two dispatcher processes join it; a real Redis of its own; a loopback gateway that fails 30% of calls in
// four ways. Events (and malformed records) flow while processes are SIGKILLed and SIGTERMed at random moments
// and restarted, and Redis is restarted empty once. Then every request's story is checked against the gateway's.

var settings = ChaosSettings.Parse(args);
var work = Path.Combine(Path.GetTempPath(), $"streams-chaos-{Guid.NewGuid().ToString("N")[..8]}");
Directory.CreateDirectory(work);
var logPath = Path.Combine(work, "chaos.log");
using var log = new StreamWriter(logPath) { AutoFlush = true };
var random = new Random(settings.Seed);
var clock = Stopwatch.StartNew();
void Say(string line)
{
    var text = $"[{clock.Elapsed.TotalSeconds,6:0.0}s] {line}";
    Console.WriteLine(text);
    lock (log) log.WriteLine(text);
}

var redisPort = FreePort();
Process? redis = null;
void StartRedis()
{
    redis = Process.Start(new ProcessStartInfo("redis-server",
        ["--port", redisPort.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
    { RedirectStandardOutput = true, RedirectStandardError = true })!;
    redis.BeginOutputReadLine();
    redis.BeginErrorReadLine();
}
StartRedis();

await using var gateway = await FakeGateway.StartAsync(settings.Seed, faultRate: 0.30, hang: TimeSpan.FromSeconds(3));
// --messages is the number of requests: three per user for the capped campaign, one for each of the promo's users.
var users = Math.Max(10, (settings.Messages - 200) / 3);
var promoUsers = Math.Min(users, 200);
var duration = TimeSpan.FromMinutes(settings.Minutes);
// Two sends per user get through the day cap; they must fit in the first half of the run at the gateway's rate.
var rate = Math.Max(20, (int)(2.0 * users / (duration.TotalSeconds * 0.5) * 1.5));
var config = Path.Combine(work, "streams.yaml");
File.WriteAllText(config, $$"""
    redis: "127.0.0.1:{{redisPort}}"
    redis_prefix: "chaos:"
    limits:
      per_user: {day: 2}
    providers:
      gw: {type: http, url: "{{gateway.Url}}/send", rate: {{rate}}, burst: 5, timeout_ms: 1500, max_retries: 3, retry_delay_ms: 50, break_for_ms: 1000, report_timeout: 15s}
    shutdown_grace: 5s
    """);
Say($"work dir {work}; {users} users, {promoUsers} for the limited campaign, {settings.Malformed} malformed records, gateway rate {rate}/s, {settings.Minutes} min");

var holder = new PipelineProcess("k", work, config, ["sink"], log);
var nodes = new[]
{
    new PipelineProcess("t1", work, config, ["topology"], log), new PipelineProcess("t2", work, config, ["topology"], log),
    new PipelineProcess("d1", work, config, ["dispatcher"], log), new PipelineProcess("d2", work, config, ["dispatcher"], log),
};
await holder.StartAsync();
var bootstrap = JsonDocument.Parse(File.ReadAllText(Path.Combine(work, ".streams", "embedded.json"))).RootElement.GetProperty("kafka").GetString()!;
await Task.WhenAll(nodes.Select(n => n.StartAsync()));
Say($"processes up (kafka {bootstrap}, redis 127.0.0.1:{redisPort})");

var client = new CampaignClient(bootstrap, Topics.Default, TimeProvider.System, NullLogger.Instance);
await client.ApplyAsync("""
    id: nudge
    name: Nudge
    type: live
    who: {trigger: {event: Browsed}}
    what: {provider: gw, text: "Still browsing? {{ event.n }}"}
    """);
await client.ApplyAsync("""
    id: promo
    name: Promo
    type: live
    who: {trigger: {event: Searched}, reach: {limit: 50}}
    what: {provider: gw, text: "50 lucky users: 20% off"}
    """);
await Task.Delay(TimeSpan.FromSeconds(8)); // both topology processes read the campaigns before the first event

// Results, read all along.
var results = new System.Collections.Concurrent.ConcurrentQueue<SmsResult>();
using var stopReading = new CancellationTokenSource();
var reader = Task.Run(() => ReadTopic(bootstrap, Topics.Default.Results, r => results.Enqueue(Codecs.SmsResult.DecodeOwn(r.Message.Value)), stopReading.Token));

// Load: each user browses three times (the third is capped), the first promoUsers also search once.
var expected = new Dictionary<string, (string Campaign, string User)>();
var events = new List<(string User, string Name)>();
for (var u = 0; u < users; u++)
{
    for (var n = 0; n < 3; n++) events.Add(($"u{u}", "Browsed"));
    if (u < promoUsers) events.Add(($"u{u}", "Searched"));
}
events = [.. events.OrderBy(_ => random.Next())];
var malformedEvery = settings.Malformed == 0 ? int.MaxValue : Math.Max(1, events.Count / settings.Malformed);
var load = Task.Run(async () =>
{
    // Idempotent: a produce retried under load must not put a record in twice (that would be a second malformed record).
    using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 5, EnableIdempotence = true }).Build();
    // Profiles first, then events spread over the first half of the run.
    for (var u = 0; u < users; u++)
    {
        producer.Produce(Topics.Default.Profiles, new Message<string, byte[]>
        {
            Key = $"u{u}",
            Value = Encoding.UTF8.GetBytes($$"""{"user_id":"u{{u}}","ts":"2026-11-01T08:00:00Z","phone":"+91987{{u:D7}}","timezone":"UTC"}"""),
        });
    }
    producer.Flush(TimeSpan.FromSeconds(30));
    await Task.Delay(TimeSpan.FromSeconds(3));
    var spread = duration * 0.5;
    var start = Stopwatch.StartNew();
    var malformed = 0;
    var ts = DateTimeOffset.UtcNow;
    for (var i = 0; i < events.Count; i++)
    {
        var (user, name) = events[i];
        ts = ts.AddMilliseconds(1);
        lock (expected) expected[RequestIds.ForTrigger(name == "Browsed" ? "nudge" : "promo", user, name, ts)] = (name == "Browsed" ? "nudge" : "promo", user);
        producer.Produce(Topics.Default.Events, new Message<string, byte[]>
        {
            Key = user,
            Value = Encoding.UTF8.GetBytes($$"""{"user_id":"{{user}}","name":"{{name}}","ts":"{{ts:O}}","props":{"n":{{i}}""" + "}}"),
        });
        if (i % malformedEvery == 0 && malformed < settings.Malformed)
        {
            // Every kind of bad input the topology must dead-letter: broken JSON, a missing field, a wrong type, an impossible date.
            var bad = (malformed % 4) switch
            {
                0 => "{\"user_id\": ",
                1 => $$"""{"user_id":"{{user}}","ts":"{{ts:O}}"}""",
                2 => $$"""{"user_id":"{{user}}","name":42,"ts":"{{ts:O}}"}""",
                _ => $$"""{"user_id":"{{user}}","name":"Browsed","ts":"2026-02-30T10:00:00Z"}""",
            };
            producer.Produce(Topics.Default.Events, new Message<string, byte[]> { Key = user, Value = Encoding.UTF8.GetBytes(bad) });
            malformed++;
        }
        var due = spread * (i + 1) / events.Count;
        if (start.Elapsed < due) await Task.Delay(due - start.Elapsed);
    }
    while (malformed < settings.Malformed)
    {
        producer.Produce(Topics.Default.Events, new Message<string, byte[]> { Key = "x", Value = Encoding.UTF8.GetBytes("not json at all") });
        malformed++;
    }
    producer.Flush(TimeSpan.FromSeconds(30));
});

// Chaos: from 10 s to three quarters of the run, a process every 6 to 12 s, killed or stopped, started again 1-3 s later;
// Redis restarted empty once, at about 40%.
var kills = new List<(DateTimeOffset At, string Node, string How)>();
var stops = new List<(string Node, int ExitCode, TimeSpan Took)>();
var redisRestarted = false;
DateTimeOffset? redisRestartedAt = null;
await Task.Delay(TimeSpan.FromSeconds(10));
while (clock.Elapsed < duration * 0.75)
{
    if (!redisRestarted && clock.Elapsed > duration * 0.4)
    {
        Say("redis: SIGKILL (no save); back empty in 2 s");
        redisRestartedAt = DateTimeOffset.UtcNow;
        redis!.Kill();
        await redis.WaitForExitAsync();
        await Task.Delay(TimeSpan.FromSeconds(2));
        StartRedis();
        redisRestarted = true;
        continue;
    }
    var node = nodes[random.Next(nodes.Length)];
    var sigkill = random.Next(2) == 0;
    kills.Add((DateTimeOffset.UtcNow, node.Name, sigkill ? "SIGKILL" : "SIGTERM"));
    if (sigkill)
    {
        await node.KillAsync();
        Say($"{node.Name}: SIGKILL");
    }
    else
    {
        var (code, took) = await node.TerminateAsync(TimeSpan.FromSeconds(30));
        stops.Add((node.Name, code, took));
        Say($"{node.Name}: SIGTERM, exit {code} after {took.TotalMilliseconds:0} ms");
    }
    await Task.Delay(TimeSpan.FromMilliseconds(1000 + random.Next(2000)));
    await node.StartAsync();
    Say($"{node.Name}: started again");
    await Task.Delay(TimeSpan.FromMilliseconds(6000 + random.Next(6000)));
}
await load;
Say($"chaos over; {expected.Count} requests expected; waiting for every one to end");

// Drain: every expected request ends (the gateway sends no delivery reports, so a sent request ends expired after 15 s).
var drainUntil = clock.Elapsed + TimeSpan.FromSeconds(Math.Max(90, settings.Minutes * 30));
bool AllEnded()
{
    var snapshot = results.ToList();
    var ended = snapshot.Where(r => ResultStatus.Final.Contains(r.Status)).Select(r => r.RequestId).ToHashSet();
    var seen = snapshot.Select(r => r.RequestId).ToHashSet();
    // A campaign that completed (reach limit full) makes no more requests: its later triggers have none.
    var completed = snapshot.Where(r => r.Reason == Reasons.LimitReached).Select(r => r.CampaignId).ToHashSet();
    return expected.All(e => ended.Contains(e.Key) || (completed.Contains(e.Value.Campaign) && !seen.Contains(e.Key)));
}
while (clock.Elapsed < drainUntil && !AllEnded()) await Task.Delay(1000);
await Task.Delay(TimeSpan.FromSeconds(3)); // a duplicate result would come after
await stopReading.CancelAsync();
await reader;

// The dead letters: the source offsets of what the topology refused.
var dlq = new HashSet<(int, long)>();
ReadAll(bootstrap, Topics.Default.Dlq, r =>
{
    var headers = r.Message.Headers ?? [];
    string? H(string k) => headers.TryGetLastBytes(k, out var b) ? Encoding.UTF8.GetString(b) : null;
    if (H(DlqHeaders.SourceTopic) == Topics.Default.Events)
        dlq.Add((int.Parse(H(DlqHeaders.SourcePartition)!, CultureInfo.InvariantCulture), long.Parse(H(DlqHeaders.SourceOffset)!, CultureInfo.InvariantCulture)));
});

foreach (var n in nodes.Append(holder)) await n.TerminateAsync(TimeSpan.FromSeconds(30));
redis?.Kill();

var verdict = Verdict.Judge(expected, [.. results], [.. gateway.Calls], kills, stops, dlq.Count, settings.Malformed, redisRestartedAt);
Say(verdict.Details);
Console.WriteLine(verdict.Summary);
lock (log) log.WriteLine(verdict.Summary);
if (verdict.Passed && !settings.Keep) Directory.Delete(work, recursive: true);
else Console.WriteLine($"chaos: logs and state kept in {work}");
return verdict.Passed ? 0 : 1;

static int FreePort()
{
    using var probe = new TcpListener(IPAddress.Loopback, 0);
    probe.Start();
    return ((IPEndPoint)probe.LocalEndpoint).Port;
}

static void ReadTopic(string bootstrap, string topic, Action<ConsumeResult<string, byte[]>> each, CancellationToken stop)
{
    using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
    {
        BootstrapServers = bootstrap, GroupId = $"chaos-{Guid.NewGuid():N}", AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
    }).Build();
    consumer.Subscribe(topic);
    while (!stop.IsCancellationRequested)
    {
        if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } r) each(r);
    }
    consumer.Close();
}

static void ReadAll(string bootstrap, string topic, Action<ConsumeResult<string, byte[]>> each)
{
    using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
    {
        BootstrapServers = bootstrap, GroupId = $"chaos-{Guid.NewGuid():N}", EnableAutoCommit = false,
    }).Build();
    using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
    var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
    var ends = partitions.ToDictionary(p => p, p => consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High.Value);
    var remaining = ends.Where(e => e.Value > 0).Select(e => e.Key).ToHashSet();
    consumer.Assign(remaining.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
    var waited = Stopwatch.StartNew();
    while (remaining.Count > 0 && waited.Elapsed < TimeSpan.FromSeconds(60))
    {
        if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is not { } r) continue;
        each(r);
        if (r.Offset.Value + 1 >= ends[r.TopicPartition]) remaining.Remove(r.TopicPartition);
    }
}

internal sealed record ChaosSettings(int Messages, double Minutes, int Malformed, int Seed, bool Keep)
{
    public static ChaosSettings Parse(string[] args)
    {
        var s = new ChaosSettings(3000, 3, 10_000, Environment.TickCount, false);
        for (var i = 0; i < args.Length; i++)
        {
            s = args[i] switch
            {
                "--messages" => s with { Messages = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--minutes" => s with { Minutes = double.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--malformed" => s with { Malformed = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--seed" => s with { Seed = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--keep" => s with { Keep = true },
                var other => throw new ArgumentException($"unknown option {other} (--messages N --minutes M --malformed N --seed N --keep)"),
            };
        }
        return s;
    }
}
